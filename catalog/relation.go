package catalog

import (
	"fmt"
	"strings"

	"github.com/deferproxy/deferproxy/rewrite"
)

// Relation is a fully qualified relation name with every part already normalised the warehouse's way (the form of
// rewrite.Reference.Normalized): for PostgreSQL, unquoted identifiers folded to lower case, quoted ones exact.
// Relation is comparable and is used as a map key.
type Relation struct {
	Database, Schema, Identifier string
}

// String renders the relation as db.schema.identifier, quoting a part only when PostgreSQL would need it.
func (r Relation) String() string {
	var b strings.Builder
	if r.Database != "" {
		b.WriteString(quoteIdent(r.Database))
		b.WriteByte('.')
	}
	if r.Schema != "" {
		b.WriteString(quoteIdent(r.Schema))
		b.WriteByte('.')
	}
	b.WriteString(quoteIdent(r.Identifier))
	return b.String()
}

// SchemaName is one (database, schema) pair, normalised like Relation.
type SchemaName struct {
	Database, Schema string
}

// String renders the schema as db.schema.
func (s SchemaName) String() string {
	return quoteIdent(s.Database) + "." + quoteIdent(s.Schema)
}

// Fold normalises an unquoted identifier the way the dialect does (PostgreSQL: lower case; Snowflake: upper case).
// Quoted identifiers must not be folded.
func Fold(d rewrite.Dialect, name string) string {
	if d == rewrite.Snowflake {
		return strings.ToUpper(name)
	}
	return strings.ToLower(name)
}

// quoteIdent quotes a PostgreSQL identifier only when it would not survive unquoted (not lower-case [a-z_][a-z0-9_$]*).
// Keywords are not checked: the result is for humans (notices, logs, --explain), never for SQL sent upstream.
func quoteIdent(s string) string {
	if s == "" {
		return `""`
	}
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case (c >= '0' && c <= '9') || c == '$':
			if i == 0 {
				plain = false
			}
		default:
			plain = false
		}
		if !plain {
			break
		}
	}
	if plain {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// SplitName splits a dotted SQL name such as `db."My Schema".t` into parts, each folded the dialect's way unless it
// is double-quoted ("" inside quotes is one quote). It is for names written by people (flags, config, relation_name).
func SplitName(d rewrite.Dialect, s string) ([]string, error) {
	var parts []string
	i := 0
	for {
		if i >= len(s) {
			return nil, fmt.Errorf("name %q: empty part", s)
		}
		if s[i] == '"' {
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("name %q: unterminated quoted identifier", s)
				}
				if s[j] == '"' {
					if j+1 < len(s) && s[j+1] == '"' {
						b.WriteByte('"')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			parts = append(parts, b.String())
			i = j + 1
		} else {
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '"' {
				j++
			}
			p := strings.TrimSpace(s[i:j])
			if p == "" {
				return nil, fmt.Errorf("name %q: empty part", s)
			}
			parts = append(parts, Fold(d, p))
			i = j
		}
		if i == len(s) {
			return parts, nil
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("name %q: expected '.' at byte %d", s, i)
		}
		i++
	}
}

// ParseRelation parses "schema.name" or "db.schema.name" (see SplitName); a 2-part name gets defaultDatabase.
func ParseRelation(d rewrite.Dialect, s, defaultDatabase string) (Relation, error) {
	parts, err := SplitName(d, s)
	if err != nil {
		return Relation{}, err
	}
	switch len(parts) {
	case 2:
		return Relation{Database: defaultDatabase, Schema: parts[0], Identifier: parts[1]}, nil
	case 3:
		return Relation{Database: parts[0], Schema: parts[1], Identifier: parts[2]}, nil
	}
	return Relation{}, fmt.Errorf("relation %q: write schema.name or database.schema.name", s)
}
