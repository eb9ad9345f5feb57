// Package secret hides secrets before anything is shown: the one redaction of every connection-string form
// deferproxy reads (PostgreSQL URLs and key=value strings, gosnowflake DSNs, presigned and token-bearing HTTP URLs),
// and a Set that scrubs the configured secrets from any text, error or log record that might echo them. It imports
// nothing of ours, so every part (proxy, catalog, admin, the command) uses the same rules.
package secret

import (
	"net/url"
	"strings"
)

// Mask stands in for every hidden value (the same as net/url's URL.Redacted).
const Mask = "xxxxx"

// DSN returns s with every secret it may carry masked, keeping what helps a reader (scheme, host, port, database,
// user, sslmode and the other non-secret options). The forms:
//
//   - a URL (postgres://user:pass@host/db?password=…&sslpassword=…): the userinfo password and the values of
//     secret-named query keys (password, sslpassword, token, secret, signature, passcode, private key, credential…)
//     are masked; for any scheme other than postgres/postgresql/snowflake (http(s)://, s3://, dbt-cloud://…) the user
//     part and every query value are masked, since a presigned URL's whole query is its credential;
//   - libpq's key=value string (host=h password='x y'), quoting and backslash escapes read as libpq does;
//   - gosnowflake's DSN (user:password@account/db/schema?warehouse=w&token=…).
//
// A URL that does not parse is masked textually (everything between the first ':' of the userinfo and its last
// '@'), erring on the side of hiding too much. Anything else (a file path) is returned unchanged.
func DSN(s string) string {
	out, _ := redact(s)
	return out
}

// Values returns the secrets s carries, as written in s and decoded (percent-decoding, libpq unquoting), so that a
// Set can mask them wherever a library echoes them. Values shorter than MinLength are left out (see Set.Scrub).
func Values(s string) []string {
	_, vals := redact(s)
	return vals
}

// redact is DSN and Values in one pass.
func redact(s string) (string, []string) {
	switch {
	case strings.TrimSpace(s) == "":
		return s, nil
	case strings.Contains(s, "://"):
		return redactURL(s)
	case isKeyValue(s):
		return redactKeyValue(s)
	case looksLikeSnowflake(s):
		return redactSnowflake(s)
	}
	return s, nil
}

// secretKey says whether a parameter of that name holds a secret. Names are compared without case, '_' or '-':
// sslpassword, X-Amz-Signature, oauthClientSecret, private_key, passcode all count. Paths (sslkey, passfile) do
// not: a path is not a secret and helps a reader.
func secretKey(name string) bool {
	n := strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', ' ':
			return -1
		}
		return r
	}, strings.ToLower(name))
	switch n {
	case "pwd", "passwd", "pass", "sig", "apikey", "key", "auth", "authorization":
		return true
	}
	for _, w := range []string{"password", "secret", "token", "passcode", "privatekey", "signature", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// databaseScheme says whether a URL's non-secret query options are worth keeping (sslmode, host, application_name):
// for other schemes the query is masked whole.
func databaseScheme(scheme string) bool {
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql", "snowflake":
		return true
	}
	return false
}

// collector gathers secret values in their written and decoded forms.
type collector []string

func (c *collector) add(vals ...string) {
	for _, v := range vals {
		if len(v) >= MinLength && !contains(*c, v) {
			*c = append(*c, v)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// redactURL masks a URL's userinfo password (all of its userinfo for non-database schemes), its query's secret
// values (all of them for non-database schemes) and its fragment.
func redactURL(s string) (string, []string) {
	var vals collector
	schemeEnd := strings.Index(s, "://")
	scheme := s[:schemeEnd]
	db := databaseScheme(scheme)
	rest := s[schemeEnd+3:]

	// The authority ends at the first '/', '?' or '#' after the userinfo; the userinfo ends at the last '@' before
	// that. When the URL does not parse, '@' is searched in the whole rest, so that a password holding '/' or '?'
	// is still hidden (more may be hidden with it).
	_, perr := url.Parse(s)
	at := -1
	if perr == nil {
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		at = strings.LastIndex(rest[:end], "@")
	} else {
		at = strings.LastIndex(rest, "@")
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if at >= 0 {
		userinfo := rest[:at]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		switch {
		case !db:
			// A token is often the whole userinfo of an HTTP URL (https://TOKEN@host/…).
			vals.add(userinfo, unescape(userinfo), pass, unescape(pass))
			b.WriteString(Mask)
		case hasPass:
			vals.add(pass, unescape(pass))
			b.WriteString(user)
			b.WriteString(":" + Mask)
		default:
			b.WriteString(user)
		}
		b.WriteByte('@')
		rest = rest[at+1:]
	}
	// Host and path are kept; the query and fragment follow.
	q := strings.IndexAny(rest, "?#")
	if q < 0 {
		b.WriteString(rest)
		return b.String(), vals
	}
	b.WriteString(rest[:q])
	rest = rest[q:]
	frag := ""
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest, frag = rest[:i], rest[i+1:]
	}
	if strings.HasPrefix(rest, "?") {
		b.WriteByte('?')
		b.WriteString(redactQuery(rest[1:], !db, &vals))
	}
	if frag != "" {
		vals.add(frag, unescape(frag))
		b.WriteString("#" + Mask)
	}
	return b.String(), vals
}

// redactQuery masks the values of a query string's secret keys, or every value when all is set.
func redactQuery(query string, all bool, vals *collector) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || v == "" {
			continue
		}
		if all || secretKey(unescape(k)) {
			vals.add(v, unescape(v))
			parts[i] = k + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// unescape percent-decodes a URL part as a query value ('+' is a space); text that does not decode is returned as
// it is.
func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// looksLikeSnowflake recognises gosnowflake's DSN: user[:password]@account[/db[/schema]][?options], no scheme.
func looksLikeSnowflake(s string) bool {
	return strings.LastIndex(s, "@") > 0 && !strings.ContainsAny(s, " \t\r\n") && !strings.HasPrefix(s, "/")
}

// redactSnowflake masks the password between the first ':' and the last '@' before the query, and the query's
// secret values (token, passcode, privateKey, oauthClientSecret, password).
func redactSnowflake(s string) (string, []string) {
	var vals collector
	head, query, hasQuery := strings.Cut(s, "?")
	at := strings.LastIndex(head, "@")
	if at < 0 { // the '@' is in the query only: hide from the first ':' to the last '@' anyway
		head, query, hasQuery = s, "", false
		at = strings.LastIndex(head, "@")
	}
	var b strings.Builder
	userinfo := head[:at]
	if user, pass, ok := strings.Cut(userinfo, ":"); ok {
		vals.add(pass, unescape(pass))
		b.WriteString(user + ":" + Mask)
	} else {
		b.WriteString(userinfo)
	}
	b.WriteString(head[at:])
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(redactQuery(query, false, &vals))
	}
	return b.String(), vals
}
