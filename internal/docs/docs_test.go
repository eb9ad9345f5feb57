package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the repository root, seen from this package's directory; selfTest is this file, whose table of bad
// references is not scanned.
const (
	root     = "../.."
	selfTest = "internal/docs/docs_test.go"
)

var (
	// specRef matches a citation of the specification: "SPEC §4.2", "SPEC §4–§8", "SPEC §1–§4, §6, §9",
	// "SPEC §4.1, §4.2 and §4.4", "docs/SPEC.md §3.1".
	specRef = regexp.MustCompile(`SPEC(?:\.md)? §\d+(?:\.\d+)*(?:(?:–|-|, | and | or )§\d+(?:\.\d+)*)*`)
	// archRef matches "ARCHITECTURE §3" (a section of docs/ARCHITECTURE.md).
	archRef = regexp.MustCompile(`ARCHITECTURE(?:\.md)? §\d+(?:\.\d+)*`)
	// section pulls the section numbers out of a citation.
	section = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)
	// docFile matches a document named by file name, with an optional path: "docs/SPEC.md", "CONTRACTS.md",
	// "testdata/corpus/README.md". Upper-case names are the project's documents.
	docFile = regexp.MustCompile(`(?:[A-Za-z0-9_.-]+/)*[A-Z][A-Z0-9_]*\.md\b`)
	// mdLink matches a Markdown link to a .md file, with an optional #anchor.
	mdLink = regexp.MustCompile(`\]\(([^()\s#]+\.md)(#[^()\s]*)?\)`)
	// heading matches a Markdown heading; numbered ones ("## 4. The defer decision", "### 4.3 Selected nodes")
	// define sections.
	heading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)
	number  = regexp.MustCompile(`^(\d+(?:\.\d+)*)\.? `)
)

// doc is one Markdown document's headings: section numbers and GitHub anchors.
type doc struct {
	sections map[string]bool
	anchors  map[string]bool
}

func readDoc(t *testing.T, path string) doc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	d := doc{sections: map[string]bool{}, anchors: map[string]bool{}}
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		if n := number.FindStringSubmatch(m[1]); n != nil {
			d.sections[n[1]] = true
		}
		d.anchors[anchor(m[1])] = true
	}
	return d
}

// anchor is GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
func anchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f && r != '§' && r != '—' && r != '–' && r != '→':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// skipDir reports directories that hold no references of ours: VCS data, third-party and generated test data,
// the Python venv, build output.
func skipDir(name string) bool {
	switch name {
	case ".git", "testdata", ".venv", "bin", "node_modules":
		return true
	}
	return false
}

// sources returns every .go and .md file of the repository (relative to root, slash-separated).
func sources(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") || strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			if rel = filepath.ToSlash(rel); rel != selfTest { // its bad references are deliberate
				out = append(out, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// exists reports whether the repository file rel (slash-separated, relative to root) exists.
func exists(rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

// lineOf returns the 1-based line of byte offset i in s.
func lineOf(s string, i int) int { return strings.Count(s[:i], "\n") + 1 }

// check returns every unresolved reference in one file's text, as "file:line: what".
func check(file, text string, spec, arch doc) []string {
	var bad []string
	report := func(i int, format string, args ...any) {
		bad = append(bad, fmt.Sprintf("%s:%d: %s", file, lineOf(text, i), fmt.Sprintf(format, args...)))
	}
	for _, loc := range specRef.FindAllStringIndex(text, -1) {
		for _, n := range section.FindAllStringSubmatch(text[loc[0]:loc[1]], -1) {
			if !spec.sections[n[1]] {
				report(loc[0], "%q cites §%s, which has no heading in docs/SPEC.md", text[loc[0]:loc[1]], n[1])
			}
		}
	}
	for _, loc := range archRef.FindAllStringIndex(text, -1) {
		n := section.FindStringSubmatch(text[loc[0]:loc[1]])
		if !arch.sections[n[1]] {
			report(loc[0], "%q cites §%s, which has no heading in docs/ARCHITECTURE.md", text[loc[0]:loc[1]], n[1])
		}
	}
	// Within the specification a bare "§n" is a citation of its own sections.
	if file == "docs/SPEC.md" {
		for _, loc := range section.FindAllStringSubmatchIndex(text, -1) {
			if n := text[loc[2]:loc[3]]; !spec.sections[n] {
				report(loc[0], "§%s has no heading in docs/SPEC.md", n)
			}
		}
	}
	dir := filepath.ToSlash(filepath.Dir(file))
	for _, loc := range docFile.FindAllStringIndex(text, -1) {
		ref := text[loc[0]:loc[1]]
		if strings.HasPrefix(ref, "../") || strings.Contains(ref, "shared/") {
			report(loc[0], "%s is outside the repository: cite the document under docs/", ref)
			continue
		}
		if !resolves(dir, ref) {
			report(loc[0], "%s: no such document in the repository (docs/ holds the project's documents)", ref)
		}
	}
	if strings.HasSuffix(file, ".md") {
		for _, m := range mdLink.FindAllStringSubmatchIndex(text, -1) {
			target := text[m[2]:m[3]]
			if strings.Contains(target, "://") {
				continue
			}
			rel := filepath.ToSlash(filepath.Join(dir, target))
			if !exists(rel) {
				report(m[0], "link to %s: no such file", target)
				continue
			}
			if m[4] >= 0 {
				frag := text[m[4]+1 : m[5]]
				if d := docFor(rel, spec, arch); d != nil && !d.anchors[frag] {
					report(m[0], "link to %s#%s: no such heading", target, frag)
				}
			}
		}
	}
	return bad
}

// resolves reports whether a document reference made in directory dir names an existing file: as a path from the
// root or from dir, or a bare name in docs/, the root or dir.
func resolves(dir, ref string) bool {
	cands := []string{ref, filepath.ToSlash(filepath.Join(dir, ref))}
	if !strings.Contains(ref, "/") {
		cands = append(cands, "docs/"+ref)
	}
	for _, c := range cands {
		if exists(c) {
			return true
		}
	}
	return false
}

// docFor returns the parsed headings of the two documents whose anchors are checked, nil for others.
func docFor(rel string, spec, arch doc) *doc {
	switch rel {
	case "docs/SPEC.md":
		return &spec
	case "docs/ARCHITECTURE.md":
		return &arch
	}
	return nil
}

// TestReferencesResolve fails on a "SPEC §n" whose section has no heading in docs/SPEC.md, an "ARCHITECTURE §n"
// without a heading in docs/ARCHITECTURE.md, a document named that does not exist in the repository (such as the
// former CONTRACTS.md, or the design notes outside it), and a Markdown link to a missing file or heading.
func TestReferencesResolve(t *testing.T) {
	spec := readDoc(t, filepath.Join(root, "docs", "SPEC.md"))
	arch := readDoc(t, filepath.Join(root, "docs", "ARCHITECTURE.md"))
	files := sources(t)
	if len(files) < 50 {
		t.Fatalf("found only %d .go and .md files under %s: is the test running from internal/docs?", len(files), root)
	}
	cited := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		cited += len(specRef.FindAllStringIndex(text, -1))
		for _, msg := range check(f, text, spec, arch) {
			t.Error(msg)
		}
	}
	if cited == 0 {
		t.Fatal("no SPEC §n citation found anywhere: the pattern no longer matches how the code cites the specification")
	}
}

// TestSpecSections pins the section numbers later issues and the code cite: they may gain neighbours, never vanish.
func TestSpecSections(t *testing.T) {
	spec := readDoc(t, filepath.Join(root, "docs", "SPEC.md"))
	for _, n := range []string{"1", "2", "3", "3.1", "3.2", "3.3", "4", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6",
		"5", "5.1", "5.2", "5.3", "5.4", "5.5", "6", "7", "8", "9", "10", "11", "12"} {
		if !spec.sections[n] {
			t.Errorf("docs/SPEC.md has no heading for §%s", n)
		}
	}
}

// TestCheckFindsBadReferences proves the checker can fail: each bad reference below must be reported.
func TestCheckFindsBadReferences(t *testing.T) {
	spec := doc{sections: map[string]bool{"4": true, "4.3": true}, anchors: map[string]bool{"43-selected-nodes": true}}
	arch := doc{sections: map[string]bool{"3": true}, anchors: map[string]bool{}}
	for _, c := range []struct {
		file, text string
		bad        int
	}{
		{"x.go", "// SPEC §4.3 and SPEC §4", 0},
		{"x.go", "// SPEC §4.9", 1},
		{"x.go", "// SPEC §4–§8", 1},
		{"x.go", "// SPEC §4.3, §4.7 and §13", 2},
		{"x.go", `msg := "(docs/SPEC.md §5)"`, 1},
		{"x.go", "// see CONTRACTS.md", 1},
		{"x.go", "// see ../shared/design/SPEC.md", 1},
		{"x.go", "// see docs/SPEC.md and README.md", 0},
		{"x.go", "// ARCHITECTURE §3, ARCHITECTURE §9", 1},
		{"docs/SPEC.md", "see §4.3 and §12", 1},
		{"README.md", "[spec](docs/SPEC.md#43-selected-nodes) [x](docs/SPEC.md#99-nothing) [y](docs/NOPE.md)", 3},
	} {
		got := check(c.file, c.text, spec, arch)
		if len(got) != c.bad {
			t.Errorf("%s %q: %d problems, want %d: %q", c.file, c.text, len(got), c.bad, got)
		}
	}
}

// TestAnchor checks GitHub's heading anchors for the shapes the documents use.
func TestAnchor(t *testing.T) {
	for h, want := range map[string]string{
		"4.3 Selected nodes": "43-selected-nodes",
		"6. Safety":          "6-safety",
		"4.1 Mode `defer`":   "41-mode-defer",
		"8. Session control (the IDE's defer menu)": "8-session-control-the-ides-defer-menu",
	} {
		if got := anchor(h); got != want {
			t.Errorf("anchor(%q) = %q, want %q", h, got, want)
		}
	}
}
