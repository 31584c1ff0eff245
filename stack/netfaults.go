package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// NetFaults are the proxies of scripts/faults.sh (toxiproxy) between
// tickbench and the local stack's brokers and S3 server, and the faults
// they inject. Brokers and S3Endpoint are where a client must connect to
// go through them: the brokers advertise the proxies there, so no
// connection bypasses them.
type NetFaults struct {
	API        string   // toxiproxy's HTTP API
	Brokers    []string // bootstrap through the proxies, node order
	Proxies    []string // "kafka-1".., node order
	S3Endpoint string
	S3Proxy    string // "s3"
}

// ReadLocalNetFaults reads NetFaults from the state files in dir
// (normally LocalStateDir); it fails unless scripts/faults.sh is up.
func ReadLocalNetFaults(dir string) (NetFaults, error) {
	st, err := readState(filepath.Join(dir, "faults", "state.env"))
	if err != nil {
		return NetFaults{}, fmt.Errorf("local stack: no network fault proxies: %w (start Kafka with FAULTS=1, then scripts/faults.sh up)", err)
	}
	n := NetFaults{API: st["TOXIPROXY_API"], S3Endpoint: st["FAULTS_S3_ENDPOINT"], S3Proxy: st["FAULTS_S3_PROXY"],
		Brokers: strings.Split(st["FAULTS_KAFKA_BROKERS"], ","), Proxies: strings.Split(st["FAULTS_KAFKA_PROXIES"], ",")}
	if n.API == "" || n.S3Endpoint == "" || len(n.Brokers) != len(n.Proxies) {
		return NetFaults{}, fmt.Errorf("local stack: %s is incomplete (restart with scripts/faults.sh down up)", filepath.Join(dir, "faults", "state.env"))
	}
	return n, nil
}

// Toxic is one fault on one proxy, in toxiproxy's terms: Type latency
// (latency, jitter ms), bandwidth (rate KB/s), reset_peer (timeout ms, then
// a TCP RST), timeout (timeout ms, 0: a black hole until removed),
// slow_close (delay ms), slicer, limit_data; Stream "upstream" (client to
// server) or "downstream"; Toxicity the share of connections it hits
// (default 1).
type Toxic struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Stream     string           `json:"stream"`
	Toxicity   float64          `json:"toxicity"`
	Attributes map[string]int64 `json:"attributes"`
}

// String says what t does, for the summary of a run ("latency 100ms ±50ms
// downstream").
func (t Toxic) String() string {
	ms := func(k string) time.Duration { return time.Duration(t.Attributes[k]) * time.Millisecond }
	var what string
	switch t.Type {
	case "latency":
		what = fmt.Sprintf("latency %v ±%v", ms("latency"), ms("jitter"))
	case "bandwidth":
		what = fmt.Sprintf("bandwidth %d KB/s", t.Attributes["rate"])
	case "reset_peer":
		what = fmt.Sprintf("connection reset after %v", ms("timeout"))
	case "timeout":
		if t.Attributes["timeout"] == 0 {
			what = "black hole"
		} else {
			what = fmt.Sprintf("black hole, closed after %v", ms("timeout"))
		}
	case "slow_close":
		what = fmt.Sprintf("slow close %v", ms("delay"))
	default:
		keys := make([]string, 0, len(t.Attributes))
		for k := range t.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, t.Attributes[k]))
		}
		what = t.Type + " " + strings.Join(parts, " ")
	}
	if t.Toxicity > 0 && t.Toxicity < 1 {
		what += fmt.Sprintf(" on %.0f%% of connections", 100*t.Toxicity)
	}
	return what + " " + t.Stream
}

// Fault is a toxic on every proxy it names.
type Fault struct {
	Toxic   Toxic
	Proxies []string
}

// String: "latency 100ms ±50ms downstream on kafka-1,kafka-2".
func (f Fault) String() string { return f.Toxic.String() + " on " + strings.Join(f.Proxies, ",") }

// Add injects f until Remove (or Reset).
func (n NetFaults) Add(ctx context.Context, f Fault) error {
	t := f.Toxic
	if t.Toxicity == 0 {
		t.Toxicity = 1
	}
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	for _, p := range f.Proxies {
		if err := n.call(ctx, http.MethodPost, "/proxies/"+p+"/toxics", body, nil); err != nil {
			return fmt.Errorf("net fault %s: %w", f, err)
		}
	}
	return nil
}

// Remove ends f on every proxy it names.
func (n NetFaults) Remove(ctx context.Context, f Fault) error {
	for _, p := range f.Proxies {
		if err := n.call(ctx, http.MethodDelete, "/proxies/"+p+"/toxics/"+f.Toxic.Name, nil, nil); err != nil {
			return fmt.Errorf("end net fault %s: %w", f, err)
		}
	}
	return nil
}

// Reset removes every fault and enables every proxy.
func (n NetFaults) Reset(ctx context.Context) error {
	return n.call(ctx, http.MethodPost, "/reset", nil, nil)
}

// Active lists the faults in force, one per toxic name, its proxies
// sorted: what a run's summary names as the fault it ran under.
func (n NetFaults) Active(ctx context.Context) ([]Fault, error) {
	var proxies map[string]struct {
		Toxics []Toxic `json:"toxics"`
	}
	if err := n.call(ctx, http.MethodGet, "/proxies", nil, &proxies); err != nil {
		return nil, err
	}
	byName := map[string]*Fault{}
	var names []string
	for p, px := range proxies {
		for _, t := range px.Toxics {
			f, ok := byName[t.Name]
			if !ok {
				f = &Fault{Toxic: t}
				byName[t.Name] = f
				names = append(names, t.Name)
			}
			f.Proxies = append(f.Proxies, p)
		}
	}
	sort.Strings(names)
	out := make([]Fault, 0, len(names))
	for _, name := range names {
		slices.Sort(byName[name].Proxies)
		out = append(out, *byName[name])
	}
	return out, nil
}

func (n NetFaults) call(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, n.API+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("toxiproxy %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("toxiproxy %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
