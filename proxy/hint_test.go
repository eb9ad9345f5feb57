package proxy

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestWithHint: the hint is added to the server's own hint or as a new field; every other byte is the server's.
func TestWithHint(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   pgproto3.ErrorResponse
		want pgproto3.ErrorResponse
	}{
		{"no hint of its own",
			pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01", Message: `relation "a.b" does not exist`,
				Position: 15, File: "parse_relation.c", Line: 1452, Routine: "parserOpenTable"},
			pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "42P01", Message: `relation "a.b" does not exist`,
				Position: 15, File: "parse_relation.c", Line: 1452, Routine: "parserOpenTable", Hint: "ours"}},
		{"the server's hint first",
			pgproto3.ErrorResponse{Severity: "ERROR", Code: "42883", Message: "m", Hint: "No function matches.", Detail: "d"},
			pgproto3.ErrorResponse{Severity: "ERROR", Code: "42883", Message: "m", Hint: "No function matches.\nours", Detail: "d"}},
	} {
		in, err := tc.in.Encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		out := withHint(in, "ours")
		var got pgproto3.ErrorResponse
		if err := got.Decode(out[5:]); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got.Hint != tc.want.Hint || got.Message != tc.want.Message || got.Position != tc.want.Position ||
			got.Code != tc.want.Code || got.Detail != tc.want.Detail || got.Routine != tc.want.Routine || got.Line != tc.want.Line {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		// Byte-exact: removing our part gives the input back.
		back := bytes.Replace(out[5:], []byte("\nours"), nil, 1)
		if tc.in.Hint == "" {
			back = bytes.Replace(out[5:], []byte("Hours\x00"), nil, 1)
		}
		if !bytes.Equal(back, in[5:]) {
			t.Errorf("%s: other bytes changed:\n in %q\nout %q", tc.name, in, out)
		}
		if se := serverError(in[5:]); se.Code != tc.in.Code || se.Message != tc.in.Message || se.Hint != tc.in.Hint ||
			se.Position != int(tc.in.Position) || se.Detail != tc.in.Detail {
			t.Errorf("%s: serverError = %+v", tc.name, se)
		}
	}
	for _, bad := range [][]byte{{'E', 0, 0, 0, 4}, {'E', 0, 0, 0, 6, 'M', 'x'}, {'E', 0, 0, 0, 8, 'M', 'x', 0, 0, 'Z'}} {
		if b := withHint(bad, "h"); b != nil {
			t.Errorf("withHint(%q) = %q, want nil (forwarded as it is)", bad, b)
		}
	}
}

// FuzzWithHint: any body either is refused (nil) or comes back as a well-formed ErrorResponse carrying the hint, with
// the input's other fields.
func FuzzWithHint(f *testing.F) {
	e := pgproto3.ErrorResponse{Severity: "ERROR", Code: "42P01", Message: "m", Hint: "h", Position: 3}
	b, _ := e.Encode(nil)
	f.Add(b[5:])
	f.Add([]byte{0})
	f.Add([]byte("Mx\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msg := append([]byte{'E', 0, 0, 0, 0}, body...)
		out := withHint(msg, "ours")
		if out == nil {
			return
		}
		var in, got pgproto3.ErrorResponse
		if err := got.Decode(out[5:]); err != nil {
			t.Fatalf("output does not decode: %v (%q)", err, out)
		}
		if in.Decode(body) == nil && (got.Message != in.Message || got.Code != in.Code ||
			!bytes.HasSuffix([]byte(got.Hint), []byte("ours"))) {
			t.Fatalf("in %+v, out %+v", in, got)
		}
		_ = serverError(body)
	})
}
