package secret

import "strings"

// isKeyValue recognises libpq's key=value connection string: it starts (after blanks) with a keyword and '='.
func isKeyValue(s string) bool {
	s = strings.TrimLeft(s, " \t\r\n\f\v")
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(s[i:], " \t\r\n\f\v"), "=")
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// redactKeyValue masks the values of the secret keys of a libpq key=value string, read as libpq's conninfo_parse
// reads it: blanks around '=', a value either bare (up to a blank) or single-quoted, '\' escaping the next byte in
// both. A quoted value left open hides everything to the end.
func redactKeyValue(s string) (string, []string) {
	var vals collector
	var b strings.Builder
	i := 0
	for i < len(s) {
		// Blanks, then the keyword up to '=' or a blank.
		start := i
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		k := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[k:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			b.WriteString(s[start:]) // not key=value from here on: libpq refuses it; nothing after it is a value
			break
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		b.WriteString(s[start:i])
		v := i
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == '\'' {
					closed = true
					break
				}
				val.WriteByte(c)
			}
			if !closed { // libpq refuses it; whatever follows may hold a password: hide it all
				vals.add(s[v:], val.String())
				b.WriteString(Mask)
				return b.String(), vals
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
				i++
			}
		}
		if secretKey(key) {
			vals.add(s[v:i], val.String())
			b.WriteString(Mask)
		} else {
			b.WriteString(s[v:i])
		}
	}
	return b.String(), vals
}
