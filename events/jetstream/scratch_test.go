package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
)

func TestScratchAppendLazy(t *testing.T) {
	s, _ := directStore(t)
	payload, _ := json.Marshal(map[string]string{"text": strings.Repeat("x", 200)})
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(4 * time.Second)
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			versions := make([]uint64, 16)
			for k := 0; time.Now().Before(end); k = (k + 1) % 16 {
				_, err := s.Append(context.Background(), events.AppendRequest{StreamID: fmt.Sprintf("note-g%d_s%d", g, k), Expected: events.Exactly(versions[k]),
					Events: []events.NewEvent{{Type: "test.noted.v1", Payload: payload}},
					Meta:   events.Meta{Actor: fundbridge.Actor{UserID: "u", Role: fundbridge.RoleOperator}}})
				if err != nil {
					t.Error(err)
					return
				}
				versions[k]++
				n.Add(1)
			}
		})
	}
	wg.Wait()
	t.Logf("%d appends/s", n.Load()/4)
}
