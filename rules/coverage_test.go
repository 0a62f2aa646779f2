package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/hearth-chat/hearth/emulator"
)

// The Firestore emulator's rule coverage (GET .../{project}:ruleCoverage) is
// a tree per rule expression: every expression of the loaded source appears,
// evaluated or not, with the values it produced and how often:
//
//	{"rules": {"files": [{"name", "content"}]},
//	 "report": [{"sourcePosition": {"line", "column", "currentOffset", "endOffset"},
//	             "values": [{"value": {"boolValue": true}, "count": 3}, {"value": {}, "count": 1}],
//	             "children": [...]}]}
//
// An empty value ({}) means the expression was reached but not evaluated
// (short-circuited). endOffset is inclusive. Literals do not appear.
type coverageReport struct {
	Rules struct {
		Files []struct {
			Name    string `json:"name"`
			Content string `json:"content"`
		} `json:"files"`
	} `json:"rules"`
	Report []coverageNode `json:"report"`
}

type coverageNode struct {
	SourcePosition struct {
		Line          int `json:"line"`
		Column        int `json:"column"`
		CurrentOffset int `json:"currentOffset"`
		EndOffset     int `json:"endOffset"`
	} `json:"sourcePosition"`
	Values []struct {
		Value map[string]json.RawMessage `json:"value"`
		Count int                        `json:"count"`
	} `json:"values"`
	Children []coverageNode `json:"children"`
}

// exprKey identifies an expression across projects running the same source.
type exprKey struct{ start, end, depth int }

// exprStats is what one expression did over all the cases.
type exprStats struct {
	line, column      int
	text              string
	evaluated         bool
	boolean           bool
	sawTrue, sawFalse bool
}

// coverage merges the reports of several projects that ran the same rules.
type coverage struct {
	source string
	units  []uint16 // source in UTF-16, which the offsets count
	exprs  map[exprKey]*exprStats
}

func (c *coverage) add(raw []byte) error {
	var r coverageReport
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decode rule coverage: %w", err)
	}
	if len(r.Rules.Files) != 1 {
		return fmt.Errorf("rule coverage has %d files, want 1", len(r.Rules.Files))
	}
	if c.exprs == nil {
		c.source = r.Rules.Files[0].Content
		c.units = utf16.Encode([]rune(c.source))
		c.exprs = map[exprKey]*exprStats{}
	} else if r.Rules.Files[0].Content != c.source {
		return fmt.Errorf("rule coverage of different sources")
	}
	var walk func(n coverageNode, depth int)
	walk = func(n coverageNode, depth int) {
		p := n.SourcePosition
		k := exprKey{p.CurrentOffset, p.EndOffset, depth}
		s := c.exprs[k]
		if s == nil {
			// Offsets count UTF-16 code units (the engine is Java).
			text := ""
			if p.CurrentOffset >= 0 && p.EndOffset < len(c.units) && p.CurrentOffset <= p.EndOffset {
				text = string(utf16.Decode(c.units[p.CurrentOffset : p.EndOffset+1]))
			}
			s = &exprStats{line: p.Line, column: p.Column, text: strings.Join(strings.Fields(text), " ")}
			c.exprs[k] = s
		}
		for _, v := range n.Values {
			if len(v.Value) == 0 {
				continue // reached but short-circuited
			}
			s.evaluated = true
			if b, ok := v.Value["boolValue"]; ok {
				s.boolean = true
				switch string(b) {
				case "true":
					s.sawTrue = true
				case "false":
					s.sawFalse = true
				}
			}
		}
		for _, ch := range n.Children {
			walk(ch, depth+1)
		}
	}
	for _, n := range r.Report {
		walk(n, 0)
	}
	return nil
}

// bareReference matches an expression that only names a value (u.settings,
// s, data[field]): it may hold a boolean without being a condition of the
// rules, so it need not be seen both true and false.
var bareReference = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*|\[\w*\])*$`)

// summary counts expressions, evaluated expressions, boolean expressions and
// boolean expressions that were both true and false; and lists the gaps.
func (c *coverage) summary() (total, evaluated, booleans, both int, gaps []string) {
	for _, s := range c.exprs {
		total++
		if s.evaluated {
			evaluated++
		} else {
			gaps = append(gaps, fmt.Sprintf("line %d:%d never evaluated: %s", s.line, s.column, s.text))
		}
		if s.boolean && !bareReference.MatchString(s.text) {
			booleans++
			if s.sawTrue && s.sawFalse {
				both++
			} else {
				gaps = append(gaps, fmt.Sprintf("line %d:%d only ever %v: %s", s.line, s.column, s.sawTrue, s.text))
			}
		}
	}
	slices.Sort(gaps)
	return total, evaluated, booleans, both, gaps
}

// checkCoverage fetches and merges the rule coverage of every project the
// cases ran in, logs the figures, and fails for any expression that was never
// evaluated or any boolean expression that was not seen both true (an allow)
// and false (a deny).
func checkCoverage(t *testing.T, runs []projectRun) {
	t.Helper()
	var cov coverage
	for _, r := range runs {
		raw, err := emulator.RuleCoverage(t.Context(), r.host, r.project)
		if err != nil {
			t.Fatalf("RuleCoverage(%s) = %v", r.project, err)
		}
		if err := cov.add(raw); err != nil {
			t.Fatal(err)
		}
	}
	total, evaluated, booleans, both, gaps := cov.summary()
	if total == 0 {
		t.Fatal("rule coverage lists no expressions")
	}
	t.Logf("rule coverage: %d/%d expressions evaluated (%.1f%%); %d/%d boolean expressions seen both true and false (%.1f%%)",
		evaluated, total, 100*float64(evaluated)/float64(total), both, booleans, 100*float64(both)/float64(booleans))
	for _, g := range gaps {
		t.Errorf("rule coverage gap: %s", g)
	}
}
