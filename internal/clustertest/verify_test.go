package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/jetstream"
	"github.com/fundbridge/fundbridge/internal/app"
	"github.com/fundbridge/fundbridge/internal/natsauth"
)

// eventLog is the whole log as the admin reads it, by stream.
type eventLog struct {
	head    uint64
	total   int
	streams map[string][]events.Event
}

func readLog(ctx context.Context, c *Cluster) (l *eventLog, err error) {
	// Right after a node's restart the stream's leader may still be
	// settling, and a read times out: the log is read again, for a minute.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Second) {
		if l, err = readLogOnce(ctx, c); err == nil || time.Now().After(deadline) {
			return l, err
		}
	}
}

func readLogOnce(ctx context.Context, c *Cluster) (*eventLog, error) {
	nc, err := c.Connect(natsauth.Admin)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	store, err := jetstream.Open(ctx, nc, app.NewRegistry(), jetstream.Options{Replicas: 3})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	l := &eventLog{streams: map[string][]events.Event{}}
	if l.head, err = store.Head(ctx); err != nil {
		return nil, err
	}
	for after := uint64(0); after < l.head; {
		batch, err := store.ReadAll(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			l.streams[e.StreamID] = append(l.streams[e.StreamID], e)
			l.total++
			after = e.Position
		}
	}
	return l, nil
}

// count is how many events of type typ stream holds whose payload field
// field equals value (any, when field is "").
func (l *eventLog) count(stream, typ, field, value string) int {
	n := 0
	for _, e := range l.streams[stream] {
		if e.Type != typ {
			continue
		}
		if field != "" {
			var p map[string]any
			if json.Unmarshal(e.Payload, &p) != nil || fmt.Sprint(p[field]) != value {
				continue
			}
		}
		n++
	}
	return n
}

// expectation: the event an acknowledged command of a kind must have left
// exactly once, in which stream.
var expectations = map[string]struct {
	prefix, typ, field string // field: the payload field matched to entry.sub
}{
	"signup":     {"company-", "company.registered.v1", ""},
	"draft":      {"application-", "application.drafted.v1", ""},
	"submit":     {"application-", "application.submitted.v1", ""},
	"fund":       {"fund-", "fund.registered.v1", ""},
	"mandate":    {"fund-", "fund.mandate_set.v1", ""},
	"source":     {"deal-", "deal.sourced.v1", ""},
	"advance":    {"deal-", "deal.advanced.v1", "to"},
	"term_sheet": {"deal-", "deal.term_sheet_issued.v1", ""},
	"accept":     {"deal-", "deal.term_sheet_accepted.v1", ""},
	"close":      {"deal-", "deal.closed.v1", ""},
}

// verify checks the log against the client-side log; it returns every
// problem found, and figures.
func verify(l *eventLog, entries []*entry, fundID string) (problems []string, figures []string) {
	made := map[string]bool{} // streams an acknowledged command made
	for _, e := range entries {
		if !e.acked && !e.failed {
			problems = append(problems, fmt.Sprintf("%s %s never answered for good: %s", e.kind, e.key, e.answer))
			continue
		}
		x, ok := expectations[e.kind]
		if !ok || e.failed {
			continue
		}
		stream := x.prefix + e.id
		made[stream] = true
		value := ""
		if x.field != "" {
			value = e.sub
		}
		if n := l.count(stream, x.typ, x.field, value); n != 1 {
			problems = append(problems, fmt.Sprintf("%s %s acknowledged: %d × %s in %s, want exactly 1", e.kind, e.key, n, x.typ, stream))
		}
		if e.kind == "close" {
			// The closing process: the application funded and the capital
			// committed once each, for this deal.
			if n := l.count("application-"+e.sub, "application.funded.v1", "", ""); n != 1 {
				problems = append(problems, fmt.Sprintf("deal %s closed: application %s funded %d times, want 1", e.id, e.sub, n))
			}
			committed := l.count("fund-"+fundID, "fund.capital_committed.v1", "deal_id", e.id)
			released := l.count("fund-"+fundID, "fund.capital_released.v1", "deal_id", e.id)
			if committed-released != 1 {
				problems = append(problems, fmt.Sprintf("deal %s closed: capital committed %d and released %d times, want net 1", e.id, committed, released))
			}
		}
	}
	// Nothing beyond what was acknowledged: a failed or lost command that
	// was applied would show as a company, application or deal no
	// acknowledged command made.
	for stream := range l.streams {
		for _, p := range []string{"company-", "application-", "deal-"} {
			if strings.HasPrefix(stream, p) && !made[stream] {
				problems = append(problems, fmt.Sprintf("stream %s exists but no acknowledged command made it", stream))
			}
		}
	}
	// Every process finished exactly once; every deadline due fired once.
	processes, deadlines, fired := 0, 0, 0
	for stream, evs := range l.streams {
		if !strings.HasPrefix(stream, "process-") {
			continue
		}
		processes++
		if n := l.count(stream, "process.ended.v1", "", ""); n != 1 {
			problems = append(problems, fmt.Sprintf("process %s ended %d times, want once", stream, n))
		}
		due := map[string]time.Time{}
		firings := map[string]int{}
		for _, e := range evs {
			var p struct {
				Name string    `json:"name"`
				At   time.Time `json:"at"`
			}
			_ = json.Unmarshal(e.Payload, &p)
			switch e.Type {
			case "process.deadline_scheduled.v1":
				due[p.Name] = p.At
			case "process.deadline_cancelled.v1":
				delete(due, p.Name)
			case "process.deadline_fired.v1":
				firings[p.Name]++
				fired++
			}
		}
		for name, at := range due {
			deadlines++
			if at.Before(time.Now().Add(-5*time.Second)) && firings[name] != 1 {
				problems = append(problems, fmt.Sprintf("process %s: deadline %s due at %s fired %d times, want once", stream, name, at.Format(time.RFC3339), firings[name]))
			}
		}
		for name, n := range firings {
			if n > 1 {
				problems = append(problems, fmt.Sprintf("process %s: deadline %s fired %d times", stream, name, n))
			}
		}
	}
	sort.Strings(problems)
	figures = append(figures, fmt.Sprintf("log: %d events to position %d; %d process instances, each ended once; %d deadlines pending or due, %d firings", l.total, l.head, processes, deadlines, fired))
	return problems, figures
}
