package sink

import (
	"fmt"
	"strings"
	"time"

	"github.com/tickbench/tickbench/tick"
)

// Layout is how object keys are partitioned, Hive style, by the tick's
// event time (UTC) and optionally its symbol.
type Layout string

const (
	// LayoutNone puts every object directly under the prefix.
	LayoutNone Layout = "none"
	// LayoutHourly is dt=YYYY-MM-DD/hour=HH/ (the default).
	LayoutHourly Layout = "dt-hour"
	// LayoutSymbol is dt=YYYY-MM-DD/symbol=SYM/: one object per symbol per
	// batch, so a query for one symbol reads only its objects.
	LayoutSymbol Layout = "dt-symbol"
)

// Layouts lists the layouts by name.
var Layouts = []Layout{LayoutNone, LayoutHourly, LayoutSymbol}

// ParseLayout returns the named layout or an error listing the allowed ones.
func ParseLayout(s string) (Layout, error) {
	for _, l := range Layouts {
		if string(l) == s {
			return l, nil
		}
	}
	return "", fmt.Errorf("layout %q: allowed none, dt-hour, dt-symbol", s)
}

// Dir returns the layout's folder for t, ending in a slash ("" for none).
// Ticks with the same Dir in one batch share an object.
func (l Layout) Dir(t *tick.Tick) string {
	switch l {
	case LayoutHourly:
		return hourDir(t.Time())
	case LayoutSymbol:
		return dayDir(t.Time()) + "symbol=" + t.Symbol + "/"
	}
	return ""
}

// period is the event-time span an object may not cross: an hour or a day
// (its dt= folder), or none.
func (l Layout) period() time.Duration {
	switch l {
	case LayoutHourly:
		return time.Hour
	case LayoutSymbol:
		return 24 * time.Hour
	}
	return 0
}

func dayDir(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("dt=%04d-%02d-%02d/", t.Year(), int(t.Month()), t.Day())
}

func hourDir(t time.Time) string {
	return dayDir(t) + fmt.Sprintf("hour=%02d/", t.UTC().Hour())
}

// ObjectKey is prefix + dir + {topic}+{partition}+{startOffset:020d}.{ext}.
// It depends only on the object's first record, so a replay after a crash
// rewrites the same key.
func ObjectKey(prefix, dir, topic string, partition int32, startOffset int64, ext string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(dir)
	fmt.Fprintf(&b, "%s+%d+%020d.%s", topic, partition, startOffset, ext)
	return b.String()
}
