package rewrite

// This file is the tokenizer of the dialect-tolerant lexer (SPEC §5.3): it knows just enough of each dialect's
// lexical rules (strings, comments, quoted identifiers, dollar quotes, parameters, Snowflake stages) to never
// mistake the inside of a literal or a comment for a name. It does not allocate.

// tokKind is the class of a lexer token.
type tokKind uint8

const (
	tkEOF    tokKind = iota
	tkWord           // unquoted identifier or keyword
	tkQuoted         // "quoted identifier" (terminated)
	tkString         // any string literal: '…', E'…', $$…$$, $tag$…$tag$, B'…', X'…', U&'…'
	tkNumber         // numeric literal
	tkParam          // $1, $name (Snowflake), :bind, ?
	tkPunct          // one of ( ) [ ] { } , ; .
	tkOp             // any other operator
	tkOpaque         // something the lexer will not interpret: @stage, U&"…", an unterminated quoted identifier
)

// token is one lexical token: its class and its byte span in the scanned text.
type token struct {
	kind       tokKind
	start, end int
}

// scanner walks a SQL string token by token. Its zero value is not usable; use newScanner.
type scanner struct {
	src     string
	pos     int
	dialect Dialect
	// backslash: plain '…' (and N'…') strings take backslash escapes, as PostgreSQL reads them with
	// standard_conforming_strings off (Reading.BackslashStrings).
	backslash bool
	// gap is true when the token returned last was preceded by whitespace or a comment.
	gap bool
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips whitespace and comments and reports whether it skipped anything.
func (s *scanner) skipSpace() bool {
	start := s.pos
	src := s.src
	for s.pos < len(src) {
		c := src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.pos++
		case c == '-' && s.pos+1 < len(src) && src[s.pos+1] == '-':
			s.skipLine()
		case c == '/' && s.pos+1 < len(src) && src[s.pos+1] == '/' && s.dialect == Snowflake:
			s.skipLine()
		case c == '/' && s.pos+1 < len(src) && src[s.pos+1] == '*':
			s.skipBlockComment()
		default:
			return s.pos > start
		}
	}
	return s.pos > start
}

func (s *scanner) skipLine() {
	for s.pos < len(s.src) && s.src[s.pos] != '\n' {
		s.pos++
	}
}

// skipBlockComment skips /* … */; PostgreSQL nests block comments, Snowflake does not. An unterminated comment
// runs to the end of the text, as both servers treat it (as an error).
func (s *scanner) skipBlockComment() {
	src := s.src
	s.pos += 2
	depth := 1
	for s.pos < len(src) {
		c := src[s.pos]
		if c == '*' && s.pos+1 < len(src) && src[s.pos+1] == '/' {
			s.pos += 2
			depth--
			if depth == 0 {
				return
			}
			continue
		}
		if c == '/' && s.pos+1 < len(src) && src[s.pos+1] == '*' && s.dialect == Postgres {
			s.pos += 2
			depth++
			continue
		}
		s.pos++
	}
}

// next returns the next token; at the end of the text it returns a tkEOF token at len(src).
func (s *scanner) next() token {
	s.gap = s.skipSpace()
	src := s.src
	start := s.pos
	if start >= len(src) {
		return token{kind: tkEOF, start: len(src), end: len(src)}
	}
	c := src[start]
	switch {
	case c == '\'':
		s.skipQuote(start+1, s.dialect == Snowflake || s.backslash)
		return token{kind: tkString, start: start, end: s.pos}
	case c == '"':
		if s.skipDoubleQuote(start + 1) {
			return token{kind: tkQuoted, start: start, end: s.pos}
		}
		return token{kind: tkOpaque, start: start, end: s.pos}
	case isIdentStart(c):
		// Prefixed string literals: E'…' (backslash escapes), B'…', X'…', N'…', and U&'…' / U&"…".
		if start+1 < len(src) {
			n := src[start+1]
			switch c | 0x20 {
			case 'e':
				if n == '\'' {
					s.skipQuote(start+2, true)
					return token{kind: tkString, start: start, end: s.pos}
				}
			case 'b', 'x', 'n':
				if n == '\'' {
					s.skipQuote(start+2, s.dialect == Snowflake || s.backslash && c|0x20 == 'n')
					return token{kind: tkString, start: start, end: s.pos}
				}
			case 'u':
				if n == '&' && start+2 < len(src) {
					switch src[start+2] {
					case '\'':
						s.skipQuote(start+3, false)
						return token{kind: tkString, start: start, end: s.pos}
					case '"':
						// A Unicode-escaped identifier: its parts would need decoding; never interpret it.
						s.skipDoubleQuote(start + 3)
						return token{kind: tkOpaque, start: start, end: s.pos}
					}
				}
			}
		}
		p := start + 1
		for p < len(src) && isIdentCont(src[p]) {
			p++
		}
		s.pos = p
		return token{kind: tkWord, start: start, end: p}
	case isDigit(c) || (c == '.' && start+1 < len(src) && isDigit(src[start+1])):
		p := start
		for p < len(src) && (isDigit(src[p]) || src[p] == '.' || src[p] == '_' || isIdentStart(src[p])) {
			if src[p] == '.' && p+1 < len(src) && src[p+1] == '.' {
				break // 1..2 (a range in some dialects)
			}
			if (src[p]|0x20) == 'e' && p+1 < len(src) && (src[p+1] == '+' || src[p+1] == '-') {
				p++
			}
			p++
		}
		s.pos = p
		return token{kind: tkNumber, start: start, end: p}
	case c == '$':
		return s.dollar(start)
	case c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == ';' || c == '.':
		s.pos = start + 1
		return token{kind: tkPunct, start: start, end: start + 1}
	case c == ':':
		if start+1 < len(src) && src[start+1] == ':' {
			s.pos = start + 2
			return token{kind: tkOp, start: start, end: s.pos}
		}
		if start+1 < len(src) && (isIdentStart(src[start+1]) || isDigit(src[start+1]) || src[start+1] == '\'' || src[start+1] == '"') {
			// :bind, :1, psql's :'var' and :"var".
			p := start + 1
			switch src[p] {
			case '\'':
				s.skipQuote(p+1, false)
				p = s.pos
			case '"':
				s.skipDoubleQuote(p + 1)
				p = s.pos
			default:
				for p < len(src) && isIdentCont(src[p]) {
					p++
				}
			}
			s.pos = p
			return token{kind: tkParam, start: start, end: p}
		}
		s.pos = start + 1
		return token{kind: tkOp, start: start, end: s.pos}
	case c == '?':
		s.pos = start + 1
		return token{kind: tkParam, start: start, end: s.pos}
	case c == '@' && s.dialect == Snowflake:
		// A stage: @name, @db.schema.stage/path, @%table, @~. Never a relation.
		p := start + 1
		for p < len(src) {
			d := src[p]
			if d == ' ' || d == '\t' || d == '\n' || d == '\r' || d == '(' || d == ')' || d == ',' || d == ';' || d == '\'' {
				break
			}
			if d == '"' {
				s.skipDoubleQuote(p + 1)
				p = s.pos
				continue
			}
			p++
		}
		s.pos = p
		return token{kind: tkOpaque, start: start, end: p}
	default:
		// An operator: a run of operator characters, not crossing a comment start.
		p := start + 1
		for p < len(src) && isOpChar(src[p]) {
			if (src[p] == '-' && p+1 < len(src) && src[p+1] == '-') || (src[p] == '/' && p+1 < len(src) && (src[p+1] == '*' || (src[p+1] == '/' && s.dialect == Snowflake))) {
				break
			}
			p++
		}
		s.pos = p
		return token{kind: tkOp, start: start, end: p}
	}
}

func isOpChar(c byte) bool {
	switch c {
	case '+', '-', '*', '/', '<', '>', '=', '~', '!', '@', '#', '%', '^', '&', '|', '`', '?':
		return true
	}
	return false
}

// skipQuote skips the body of a single-quoted literal starting at p (just after the opening quote). ” is a quote
// in every dialect; backslash escapes a character when backslash is true (E'…' in PostgreSQL, every Snowflake
// string). An unterminated literal runs to the end of the text.
func (s *scanner) skipQuote(p int, backslash bool) {
	src := s.src
	for p < len(src) {
		c := src[p]
		if c == '\\' && backslash {
			p += 2
			continue
		}
		if c == '\'' {
			if p+1 < len(src) && src[p+1] == '\'' {
				p += 2
				continue
			}
			s.pos = p + 1
			return
		}
		p++
	}
	s.pos = len(src)
}

// skipDoubleQuote skips the body of a quoted identifier starting at p and reports whether it was terminated.
func (s *scanner) skipDoubleQuote(p int) bool {
	src := s.src
	for p < len(src) {
		if src[p] == '"' {
			if p+1 < len(src) && src[p+1] == '"' {
				p += 2
				continue
			}
			s.pos = p + 1
			return true
		}
		p++
	}
	s.pos = len(src)
	return false
}

// dollar scans a token starting with '$': a positional parameter ($1), a dollar-quoted string ($$…$$ in both
// dialects, $tag$…$tag$ in PostgreSQL) or a Snowflake variable ($name).
func (s *scanner) dollar(start int) token {
	src := s.src
	p := start + 1
	if p < len(src) && isDigit(src[p]) {
		for p < len(src) && isDigit(src[p]) {
			p++
		}
		s.pos = p
		return token{kind: tkParam, start: start, end: p}
	}
	if p < len(src) && src[p] == '$' {
		s.skipDollarBody(start, p+1)
		return token{kind: tkString, start: start, end: s.pos}
	}
	if p < len(src) && isIdentStart(src[p]) {
		q := p
		for q < len(src) && isIdentCont(src[q]) && src[q] != '$' {
			q++
		}
		if s.dialect == Postgres && q < len(src) && src[q] == '$' {
			s.skipDollarBody(start, q+1)
			return token{kind: tkString, start: start, end: s.pos}
		}
		s.pos = q
		return token{kind: tkParam, start: start, end: q}
	}
	s.pos = p
	return token{kind: tkOp, start: start, end: p}
}

// skipDollarBody skips from body (just after the opening delimiter src[start:body]) to the end of the matching
// closing delimiter, or to the end of the text.
func (s *scanner) skipDollarBody(start, body int) {
	delim := s.src[start:body]
	src := s.src
	for p := body; p+len(delim) <= len(src); p++ {
		if src[p] == '$' && src[p:p+len(delim)] == delim {
			s.pos = p + len(delim)
			return
		}
	}
	s.pos = len(src)
}
