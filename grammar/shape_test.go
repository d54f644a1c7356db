package grammar

import "testing"

// TestShapeRoundTrip: what String and Arg write, ParseShape reads back; what it refuses, it says why.
func TestShapeRoundTrip(t *testing.T) {
	for _, dims := range [][]int{{3, 28, 28}, {1, 64, 64}, {49, 512}, {784, 27}} {
		s, err := ShapeOf(dims...)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{s.String(), s.Arg()} {
			back, err := ParseShape(text)
			if err != nil || back != s {
				t.Errorf("ParseShape(%q) = %v, %v; want %v", text, back, err, s)
			}
		}
	}
	for _, bad := range []string{"", "28", "(3,28,28", "3x0x28", "threex28x28", "1x2x3x4"} {
		if _, err := ParseShape(bad); err == nil {
			t.Errorf("ParseShape(%q) succeeded", bad)
		}
	}
}
