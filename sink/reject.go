package sink

import (
	"encoding/json"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrorsDir is the folder under a sink's prefix that holds the records
// that are not ticks, one object per batch that had any.
const ErrorsDir = "errors/"

// Reject is one record that is not a tick, as a JSON line of an errors/
// object: where it was, why it was refused, and its bytes as they were.
type Reject struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Reason    string `json:"reason"`
	Value     []byte `json:"value_b64"` // base64 in JSON
}

// ErrorKey is the key of the errors object of the batch of partition p
// starting at offset start: prefix + "errors/" + "topic+p+offset.jsonl".
func ErrorKey(prefix, topic string, p int32, start int64) string {
	return fmt.Sprintf("%s%s%s+%d+%020d.jsonl", prefix, ErrorsDir, topic, p, start)
}

func appendReject(dst []byte, r *kgo.Record, reason error) []byte {
	line, err := json.Marshal(Reject{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Reason: reason.Error(), Value: r.Value})
	if err != nil {
		panic(err) // only strings, numbers and bytes: cannot fail
	}
	return append(append(dst, line...), '\n')
}
