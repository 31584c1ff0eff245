package result

import "fmt"

// Verify is the read-back check of one sink's objects.
type Verify struct {
	OK         bool   `json:"ok"`
	Problem    string `json:"problem,omitempty"`
	Objects    int64  `json:"objects"` // listed under the prefix
	Landed     int64  `json:"landed"`  // tick lines read back
	Unique     int64  `json:"unique"`  // distinct seq
	Duplicates int64  `json:"duplicates"`
	Missing    int64  `json:"missing"` // produced but not landed
	Foreign    int64  `json:"foreign"` // seq outside this run
	BadObjects int64  `json:"bad_objects"`
	// Orphans (table strategies) are objects under the prefix that the
	// table does not hold: landed, never committed. They are not read.
	Orphans     int64 `json:"orphans,omitempty"`
	OrphanBytes int64 `json:"orphan_bytes,omitempty"`
	// Rejects are the records found in errors/ objects (not ticks), each
	// with its reason and original bytes; RejectObjects the objects.
	Rejects       int64 `json:"rejects,omitempty"`
	RejectObjects int64 `json:"reject_objects,omitempty"`
}

// Expected is how many ticks a merged result's producers acknowledged, as
// the set 0..n-1 that verify checks: only when every shard sent its whole
// share (no failures, not interrupted), since a shard cut short leaves
// gaps that a count cannot describe.
func (r *Result) Expected() (uint64, error) {
	if r.Role != RoleMerged || len(r.Strategies) == 0 {
		return 0, fmt.Errorf("result %s: role %q, want a merged result (tickbench merge)", r.Name, r.Role)
	}
	p := r.Strategies[0].Producer
	if p.Failed > 0 || p.Interrupted || p.Acked != p.Sent {
		return 0, fmt.Errorf("result %s: producers sent %d, acknowledged %d, failed %d, interrupted %v: the acknowledged ticks are not 0..n-1; give --expect", r.Name, p.Sent, p.Acked, p.Failed, p.Interrupted)
	}
	return p.Acked, nil
}

// SetVerify records v as the verification of the merged strategy landed
// under prefix; Verified holds when every strategy verified.
func (r *Result) SetVerify(prefix string, v Verify) error {
	found := false
	r.Verified = true
	for i := range r.Strategies {
		s := &r.Strategies[i]
		if s.Prefix == prefix {
			s.Verify, found = v, true
		}
		r.Verified = r.Verified && s.Verify.OK
	}
	if !found {
		return fmt.Errorf("result %s: no strategy landed under prefix %q", r.Name, prefix)
	}
	return nil
}
