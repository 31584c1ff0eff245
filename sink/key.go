package sink

import (
	"fmt"
	"strings"
	"time"
)

// Layout is the Hive-style partitioning of object keys by event time (UTC).
// Only dt=/hour= exists today; the type is where other layouts go.
type Layout string

// LayoutHourly is dt=YYYY-MM-DD/hour=HH/.
const LayoutHourly Layout = "dt-hour"

// Partition returns the layout's path segment for event time t, ending in a
// slash. Two ticks with the same partition may share an object.
func (l Layout) Partition(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("dt=%04d-%02d-%02d/hour=%02d/", t.Year(), int(t.Month()), t.Day(), t.Hour())
}

// ObjectKey is prefix + partition + {topic}+{partition}+{startOffset:020d}.{ext}.
// The key depends only on the first record of the batch, so a replay after a
// crash rewrites the same key.
func ObjectKey(prefix string, layout Layout, eventTime time.Time, topic string, partition int32, startOffset int64, ext string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(layout.Partition(eventTime))
	fmt.Fprintf(&b, "%s+%d+%020d.%s", topic, partition, startOffset, ext)
	return b.String()
}
