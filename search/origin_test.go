package search

import (
	"encoding/json"
	"testing"
)

// The log writes origins as text; every kind must come back as it went, and anything else is refused
// when the log is read.
func TestOriginText(t *testing.T) {
	for _, o := range []Origin{OriginRandom, OriginMutation, OriginCrossover, SeedOrigin("resnet18"), CopyOrigin("mlp_mixer"), {}} {
		b, err := json.Marshal(Record{Origin: o})
		if err != nil {
			t.Fatal(err)
		}
		var r Record
		if err := json.Unmarshal(b, &r); err != nil || r.Origin != o {
			t.Errorf("%q: read back as %q (%v) from %s", o, r.Origin, err, b)
		}
	}
	for text, want := range map[string]Origin{"random": OriginRandom, "seed:vit": SeedOrigin("vit"), "copy:wrn16_4": CopyOrigin("wrn16_4")} {
		if got, err := ParseOrigin(text); err != nil || got != want || got.String() != text {
			t.Errorf("ParseOrigin(%q) = %q, %v", text, got, err)
		}
	}
	for _, bad := range []string{"seed:", "copy:", "mutant", "Random", "seed"} {
		if o, err := ParseOrigin(bad); err == nil {
			t.Errorf("ParseOrigin(%q) = %q, want an error", bad, o)
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(`{"index":0,"origin":"annealed"}`), &r); err == nil {
		t.Error("a record with an unknown origin was read")
	}
}
