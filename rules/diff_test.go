package rules

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	for _, c := range []struct{ name, a, b, want string }{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"from nothing", "", "a\nb\n", "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"to nothing", "a\n", "", "--- x\n+++ y\n@@ -1,1 +0,0 @@\n-a\n"},
		{"no final newline", "a\nb", "a\nc", "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			"--- x\n+++ y\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n"},
		{"close changes share a hunk", "1\n2\n3\n4\n5\n6\n7\n", "1\nX\n3\n4\n5\nY\n7\n",
			"--- x\n+++ y\n@@ -1,7 +1,7 @@\n 1\n-2\n+X\n 3\n 4\n 5\n-6\n+Y\n 7\n"},
	} {
		if got := unifiedDiff(c.a, c.b, "x", "y"); got != c.want {
			t.Errorf("%s: unifiedDiff(%q, %q) =\n%s\nwant\n%s", c.name, c.a, c.b, got, c.want)
		}
	}
}

// TestDiffOpsReconstruct checks on random inputs that the aligned ops spell
// out both sides.
func TestDiffOpsReconstruct(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		var out []string
		for range r.IntN(30) {
			out = append(out, string(rune('a'+r.IntN(4)))+"\n")
		}
		return out
	}
	for range 200 {
		x, y := gen(), gen()
		var gotX, gotY strings.Builder
		for _, op := range diffOps(x, y) {
			if op.kind != '+' {
				gotX.WriteString(op.line)
			}
			if op.kind != '-' {
				gotY.WriteString(op.line)
			}
		}
		if gotX.String() != strings.Join(x, "") || gotY.String() != strings.Join(y, "") {
			t.Fatalf("diffOps(%q, %q) does not reconstruct its inputs", x, y)
		}
	}
}
