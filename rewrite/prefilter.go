package rewrite

import "strings"

// Prefilter decides, before any parsing, whether a statement can possibly need a rewrite or the write guard: it
// can only if it names one of the given schemas (the dev schemas that hold deferrable nodes and the production
// schemas). It is a case-insensitive (ASCII, as PostgreSQL folds) substring test, so unquoted, quoted and
// mixed-case spellings all match, and so do words inside comments and literals — a false positive costs one
// parse, a false negative would skip a rewrite, so only the first kind is allowed. Text containing a U&"…"
// identifier, whose escapes could spell any name, always matches.
//
// Unqualified names that reach a dev schema through search_path do not contain the schema name; a caller that
// allows those adds the relation names (or the schema names of search_path) to the patterns.
//
// A Prefilter is immutable and safe for concurrent use.
type Prefilter struct {
	// anchors group the patterns by the byte searched for with strings.IndexByte (vectorised): each pattern's
	// rarest byte in SQL text, in both cases for letters.
	anchors []anchor
}

type anchor struct {
	b    byte
	pats []anchoredPattern
}

type anchoredPattern struct {
	lower string // the pattern, ASCII lower case
	off   int    // offset of the anchor byte in lower
}

// NewPrefilter returns a Prefilter for the given schema (or other) names. Empty names are ignored; with none left
// nothing matches.
func NewPrefilter(schemas []string) *Prefilter {
	p := &Prefilter{}
	seen := map[string]bool{}
	add := func(s string) {
		s = asciiLower(s)
		if s == "" || seen[s] {
			return
		}
		seen[s] = true
		off := rarestByte(s)
		ap := anchoredPattern{lower: s, off: off}
		c := s[off]
		p.addAnchor(c, ap)
		if c >= 'a' && c <= 'z' {
			p.addAnchor(c-('a'-'A'), ap)
		}
	}
	for _, s := range schemas {
		add(s)
		if strings.Contains(s, `"`) { // as written inside a quoted identifier
			add(strings.ReplaceAll(s, `"`, `""`))
		}
	}
	if len(p.anchors) > 0 {
		ap := anchoredPattern{lower: `u&"`, off: 1}
		p.addAnchor('&', ap)
	}
	return p
}

func (p *Prefilter) addAnchor(b byte, ap anchoredPattern) {
	for i := range p.anchors {
		if p.anchors[i].b == b {
			p.anchors[i].pats = append(p.anchors[i].pats, ap)
			return
		}
	}
	p.anchors = append(p.anchors, anchor{b: b, pats: []anchoredPattern{ap}})
}

// Match reports whether sql may name one of the prefilter's schemas.
func (p *Prefilter) Match(sql string) bool {
	for _, a := range p.anchors {
		from := 0
		for {
			i := strings.IndexByte(sql[from:], a.b)
			if i < 0 {
				break
			}
			i += from
			for _, ap := range a.pats {
				start := i - ap.off
				if start >= 0 && start+len(ap.lower) <= len(sql) && equalFoldLower(sql[start:start+len(ap.lower)], ap.lower) {
					return true
				}
			}
			from = i + 1
		}
	}
	return false
}

// equalFoldLower compares s with lower (already ASCII lower case), folding ASCII letters of s.
func equalFoldLower(s, lower string) bool {
	for i := 0; i < len(lower); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// rarestByte picks the offset of the byte of s that should occur least often in SQL text. Letters cost twice
// (both cases are searched); the ranking of letters is English/SQL keyword frequency.
func rarestByte(s string) int {
	const byFrequency = "etaoinsrlcdhumfpgwybvkxjqz" // most to least frequent
	best, bestScore := 0, 1<<30
	for i := 0; i < len(s); i++ {
		c := s[i]
		var score int
		switch {
		case c >= 'a' && c <= 'z':
			score = 2 * (len(byFrequency) - strings.IndexByte(byFrequency, c))
		case c == '_', c == ' ', c == '.', c == ',', c == '(', c == ')', c == '"', c == '\'':
			score = 30
		case c >= '0' && c <= '9':
			score = 25
		default:
			score = 5
		}
		if score < bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
