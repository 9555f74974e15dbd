package csvrows_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"bonusbot/ledger/csvrows"
)

// readAll returns "line:a,b" for each row and "line!error" for each LineError.
func readAll(t testing.TB, rd *csvrows.Reader, cols ...string) []string {
	t.Helper()
	var out []string
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		var le *csvrows.LineError
		if errors.As(err, &le) {
			out = append(out, fmt.Sprintf("%d!%v", le.Line, le.Err))
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = row.Get(c)
		}
		out = append(out, fmt.Sprintf("%d:%s", row.Line, strings.Join(vals, ",")))
	}
}

func TestLineNumbers(t *testing.T) {
	t.Parallel()
	in := "\uFEFF B ,a,extra\n" + // BOM, spaces, case and an unknown column in the header
		"1,2,x\n" +
		"\n" + // blank: skipped, but counted
		"3,\"multi\nline\",y\n" +
		"5,6\n" + // too few fields
		"7,8,z\n" +
		"9,\"bad\"quote\",z\n" +
		"10, 11 ,z\n"
	rd, err := csvrows.NewReader(strings.NewReader(in), "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(readAll(t, rd, "a", "b"), "|")
	want := "2:2,1|4:multi\nline,3|6!2 fields, want 3 as in the header|7:8,7|8!extraneous or missing \" in quoted-field|9:11,10"
	if got != want {
		t.Errorf("rows =\n%q\nwant\n%q", got, want)
	}
}

func TestHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		wantErr  string
	}{
		{"empty file", "", "empty file"},
		{"missing column", "a,c\n1,2\n", "missing column(s) b"},
		{"duplicate column", "a,b,a\n", "appears twice"},
		{"fine", "b,a\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := csvrows.NewReader(strings.NewReader(tt.in), "a", "b")
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewReader(%q) = %v, want error containing %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

// FuzzReader: whatever the input, the reader never panics, always ends, reports lines in increasing
// order within the file, and returns each row with the header's width.
func FuzzReader(f *testing.F) {
	f.Add("a,b\n1,2\n")
	f.Add("a,b\n\"1\n2\",3\n4\n")
	f.Add("\uFEFFa,b\r\n1,\"x\"\"y\"\r\n,\n")
	f.Add("a,b\n\"unterminated,1\n2,3\n")
	f.Add("a\n1,2\n\"")
	f.Fuzz(func(t *testing.T, in string) {
		rd, err := csvrows.NewReader(strings.NewReader(in), "a", "b")
		if err != nil {
			return
		}
		lines := strings.Count(in, "\n") + 1
		last := 0
		for n := 0; ; n++ {
			if n > lines+1 {
				t.Fatalf("more rows than lines (%d) in %q", lines, in)
			}
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var le *csvrows.LineError
			line := row.Line
			if errors.As(err, &le) {
				line = le.Line
			} else if err != nil {
				t.Fatalf("fatal error on in-memory input %q: %v", in, err)
			} else {
				_, _ = row.Get("a"), row.Get("b")
			}
			if line < 2 || line > lines || line < last {
				t.Fatalf("line %d after %d, file has %d lines: %q", line, last, lines, in)
			}
			last = line
		}
	})
}
