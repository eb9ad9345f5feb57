package rewrite

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Reading is how a PostgreSQL server reads statement text besides its dialect: the session's
// standard_conforming_strings and client_encoding, which the server reports (ParameterStatus). pg_query reads
// UTF-8 with standard strings only; a text that the server would read otherwise is "not plain" and must not be
// parsed or rewritten as if it were. The zero value is PostgreSQL's default: standard strings, UTF-8. Reading is
// separate from Dialect (an enum other dialects extend) and applies to the PostgreSQL dialect only.
type Reading struct {
	// BackslashStrings: standard_conforming_strings is off (or may be), so '…' strings take backslash escapes
	// like E'…' — 'a\'' is one string holding a quote.
	BackslashStrings bool
	// Encoding is client_encoding as the server names it (UTF8, LATIN1, SJIS, …); "" means UTF8.
	Encoding string
}

// utf8Encoding reports whether a client_encoding name is UTF-8 (the server then converts nothing).
func utf8Encoding(name string) bool {
	return name == "" || strings.EqualFold(name, "UTF8") || strings.EqualFold(name, "UTF-8") || strings.EqualFold(name, "UNICODE")
}

// Plain reports whether the server reads sql exactly as pg_query does: no backslash when strings may take escapes,
// and only ASCII bytes (the same in every client encoding PostgreSQL accepts) when the encoding is not UTF-8.
func (r Reading) Plain(sql string) bool {
	if r.BackslashStrings && strings.IndexByte(sql, '\\') >= 0 {
		return false
	}
	if !utf8Encoding(r.Encoding) {
		for i := 0; i < len(sql); i++ {
			if sql[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}

// clientEncodings maps PostgreSQL's client encoding names to their decoders. Encodings missing here (SQL_ASCII,
// EUC_TW, MULE_INTERNAL, the 2004 JIS variants) are read as raw bytes, and a text that needs them is not analysed.
var clientEncodings = map[string]encoding.Encoding{
	"LATIN1": charmap.ISO8859_1, "LATIN2": charmap.ISO8859_2, "LATIN3": charmap.ISO8859_3, "LATIN4": charmap.ISO8859_4,
	"LATIN5": charmap.ISO8859_9, "LATIN6": charmap.ISO8859_10, "LATIN7": charmap.ISO8859_13, "LATIN8": charmap.ISO8859_14,
	"LATIN9": charmap.ISO8859_15, "LATIN10": charmap.ISO8859_16,
	"ISO_8859_5": charmap.ISO8859_5, "ISO_8859_6": charmap.ISO8859_6, "ISO_8859_7": charmap.ISO8859_7, "ISO_8859_8": charmap.ISO8859_8,
	"WIN1250": charmap.Windows1250, "WIN1251": charmap.Windows1251, "WIN1252": charmap.Windows1252, "WIN1253": charmap.Windows1253,
	"WIN1254": charmap.Windows1254, "WIN1255": charmap.Windows1255, "WIN1256": charmap.Windows1256, "WIN1257": charmap.Windows1257,
	"WIN1258": charmap.Windows1258, "WIN866": charmap.CodePage866, "WIN874": charmap.Windows874,
	"KOI8R": charmap.KOI8R, "KOI8U": charmap.KOI8U,
	"SJIS": japanese.ShiftJIS, "EUC_JP": japanese.EUCJP,
	"BIG5": traditionalchinese.Big5,
	"GBK":  simplifiedchinese.GBK, "EUC_CN": simplifiedchinese.GBK, "GB18030": simplifiedchinese.GB18030,
	"UHC": korean.EUCKR, "EUC_KR": korean.EUCKR,
}

// ToUTF8 converts sql from the reading's client encoding to UTF-8, as the server does before it reads a statement.
// ok is false when the encoding is not known here or the text is not valid in it (the server refuses such text,
// and the caller must not trust a reading of it). Multi-byte encodings (SJIS, BIG5, GBK, …) have trail bytes that
// look like ASCII ('\\' among them): only a real decoder, never a byte scan, reads them right.
func (r Reading) ToUTF8(sql string) (string, bool) {
	if utf8Encoding(r.Encoding) {
		return sql, utf8.ValidString(sql)
	}
	ascii := true
	for i := 0; i < len(sql); i++ {
		if sql[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return sql, true
	}
	enc, ok := clientEncodings[strings.ToUpper(r.Encoding)]
	if !ok {
		return "", false
	}
	out, err := enc.NewDecoder().String(sql)
	if err != nil || strings.ContainsRune(out, utf8.RuneError) {
		return "", false
	}
	return out, true
}

// AnalyzeReading analyses UTF-8 text read the reading's way: with standard strings, or without a backslash, it is
// Analyze; otherwise pg_query (which knows only standard strings) would misread it, so the lexer reads it with
// backslash escapes and the Analysis says Parsed=false.
func AnalyzeReading(sql string, r Reading) (*Analysis, error) {
	if !r.BackslashStrings || strings.IndexByte(sql, '\\') < 0 {
		return Analyze(sql)
	}
	if strings.IndexByte(sql, 0) >= 0 {
		return nil, errors.New("analyze statement: text contains a NUL byte; PostgreSQL query strings cannot")
	}
	a := lexAnalyzeReading(sql, Postgres, false, true)
	a.Parsed = false
	a.ParseError = "standard_conforming_strings is off and the text holds a backslash: read by the lexer, not parsed"
	markTemps(sql, a)
	return a, nil
}

// WriteNaming reads UTF-8 sql token by token the way the server will (backslash: '…' strings take escapes) and
// returns the first of names (schema names, exact as stored) that an identifier of a statement that may write
// spells — unquoted (folded to lower case), quoted, or U&"…" with its escapes and UESCAPE — or that the body of a
// DO, CREATE or CALL statement mentions in any case (code the server may run). A statement may write unless it is
// a SELECT, VALUES or TABLE without INTO or FOR (UPDATE/SHARE), or a SHOW. "" when none: this is the write guard's
// reading of text no parser can be trusted with.
func WriteNaming(sql string, backslash bool, names []string) string {
	s := scanner{src: sql, dialect: Postgres, backslash: backslash}
	var first string
	write, code := false, false
	var found string // a name the current statement spells
	end := func() string {
		if write && found != "" {
			return found
		}
		first, write, code, found = "", false, false, ""
		return ""
	}
	for {
		t := s.next()
		if t.kind == tkEOF || t.kind == tkPunct && sql[t.start] == ';' {
			if f := end(); f != "" {
				return f
			}
			if t.kind == tkEOF {
				return ""
			}
			continue
		}
		text := sql[t.start:t.end]
		if first == "" {
			first = strings.ToLower(text)
			switch first {
			case "select", "values", "table", "show":
			default:
				write = true
			}
			code = first == "do" || first == "create" || first == "call"
		} else if t.kind == tkWord && (strings.EqualFold(text, "into") || strings.EqualFold(text, "for")) {
			write = true
		}
		if found != "" {
			continue
		}
		var ident string
		switch t.kind {
		case tkWord:
			ident = asciiLower(text)
		case tkQuoted:
			ident = strings.ReplaceAll(text[1:len(text)-1], `""`, `"`)
		case tkOpaque:
			if len(text) > 3 && (text[0]|0x20) == 'u' && text[1] == '&' && text[2] == '"' {
				esc := byte('\\')
				save := s.pos
				if u := s.next(); u.kind == tkWord && strings.EqualFold(sql[u.start:u.end], "uescape") {
					if c := s.next(); c.kind == tkString && c.end-c.start == 3 {
						esc = sql[c.start+1]
					} else {
						s.pos = save
					}
				} else {
					s.pos = save
				}
				body := text[3:]
				if strings.HasSuffix(body, `"`) {
					body = body[:len(body)-1]
				}
				var ok bool
				if ident, ok = decodeUnicodeIdent(strings.ReplaceAll(body, `""`, `"`), esc); !ok {
					// A surrogate pair or an escape the server may refuse: never taken for "not production".
					found = "(a U& name deferproxy cannot decode)"
				}
			}
		case tkString:
			if code {
				for _, n := range names {
					if ContainsFold(text, n) {
						found = n
						break
					}
				}
				if found == "" && ContainsFold(text, "u&") {
					found = "(a U& name in code)"
				}
			}
		}
		if ident != "" {
			for _, n := range names {
				if ident == n {
					found = n
					break
				}
			}
		}
	}
}

// decodeUnicodeIdent decodes the body of a U&"…" identifier: esc followed by four hex digits, or esc '+' and six,
// is that code point; esc esc is esc itself.
func decodeUnicodeIdent(body string, esc byte) (string, bool) {
	if strings.IndexByte(body, esc) < 0 {
		return body, true
	}
	var b strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if c != esc {
			b.WriteByte(c)
			i++
			continue
		}
		switch {
		case i+1 < len(body) && body[i+1] == esc:
			b.WriteByte(esc)
			i += 2
		case i+7 < len(body) && body[i+1] == '+':
			n, err := strconv.ParseUint(body[i+2:i+8], 16, 32)
			if err != nil || !utf8.ValidRune(rune(n)) || n == 0 {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 8
		case i+4 < len(body):
			n, err := strconv.ParseUint(body[i+1:i+5], 16, 32)
			if err != nil || !utf8.ValidRune(rune(n)) || n == 0 {
				return "", false
			}
			b.WriteRune(rune(n))
			i += 5
		default:
			return "", false
		}
	}
	return b.String(), true
}
