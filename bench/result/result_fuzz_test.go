package result

import (
	"encoding/json"
	"io"
	"reflect"
	"testing"
)

// FuzzParseResult: any bytes either fail to parse or give a result that
// prints, whose histograms decode or fail cleanly, and that survives a
// write and re-read unchanged (result files feed report and compare).
func FuzzParseResult(f *testing.F) {
	f.Add([]byte(`{"schema":"` + SchemaVersion + `","strategies":[{"strategy":"jsonl","upload":{"unit":"us","count":1,"hdr":"HISTFAAAABx42pJpmSzMwMDAzgABzFAaAgAAAP//KHcBkw=="}}]}`))
	f.Add([]byte(`{"schema":"tickbench.result/v0"}`))
	f.Add([]byte(`{"schema":"` + SchemaVersion + `","strategies":[{"end_to_end":{"hdr":"HISTFAAA"}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResult(b)
		if err != nil {
			return
		}
		r.PrintSummary(io.Discard)
		for _, s := range r.Strategies {
			for _, l := range []Latency{s.EndToEnd, s.Upload, s.Producer.Publish} {
				if l.HDR != "" {
					_, _ = l.DecodeHistogram()
				}
			}
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := ParseResult(out)
		if err != nil {
			t.Fatalf("re-read of a written result: %v", err)
		}
		if !reflect.DeepEqual(r, back) {
			t.Fatalf("result changed on a write and re-read")
		}
	})
}
