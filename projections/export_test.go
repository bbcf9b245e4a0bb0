package projections

import "github.com/fundbridge/fundbridge/events"

// FastDecode decodes e as the runner does, and reports whether it took
// the fast path; the first event of a type never does (it teaches it).
func FastDecode(r *events.Registry) func(e events.Event) (any, bool, error) {
	d := newPayloads(r)
	return func(e events.Event) (any, bool, error) {
		if p, ok := d.plans.Load(e.Type); ok {
			if payload, ok := p.(*typePlan).read(e.Payload); ok {
				return payload, true, nil
			}
		}
		_, payload, err := d.decode(e)
		return payload, false, err
	}
}
