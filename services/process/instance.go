package process

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fundbridge/fundbridge/events"
)

// Instance is one process as folded from its stream: the definition's
// state and the manager's bookkeeping.
type Instance[S any] struct {
	ID      string
	Version uint64 // of its stream; 0: not started
	// Position is the global position of its last commit: after it, every
	// event the process caused (its receivers' too) is in the log.
	Position uint64
	State    S
	Status   Status // "" until started
	Reason   string // why it compensated or failed
	// Correlation is the correlation ID of the event that started it,
	// carried by every command it sends.
	Correlation string
	// Pending are the commands issued and not yet answered, by step.
	Pending map[string]CommandIssued
	// Done are the steps that succeeded and have an undo not yet done,
	// oldest first.
	Done []CommandIssued
	// Deadlines pending, by name.
	Deadlines map[string]time.Time

	issued map[string]struct{} // every step ever issued: steps are unique
	seen   mark                // the last event of the log observed
}

// mark is where an event stands in the log: commits by position, the
// events of one commit (one stream) by version.
type mark struct{ position, version uint64 }

func (m mark) before(e events.Event) bool {
	return e.Position > m.position || e.Position == m.position && e.Version > m.version
}

func (d *Definition[S]) initial(id string) Instance[S] {
	return Instance[S]{ID: id, State: d.Initial()}
}

// fold applies one recorded payload. It copies what it changes: an
// instance may be shared with a planner trying a decision on it.
func (d *Definition[S]) fold(in Instance[S], p any) Instance[S] {
	if in.Status == "" {
		in.Status = Running
	}
	switch p := p.(type) {
	case Observed:
		in.seen = mark{p.Position, p.Version}
	case CommandIssued:
		in.Pending = maps.Clone(in.Pending)
		if in.Pending == nil {
			in.Pending = map[string]CommandIssued{}
		}
		in.Pending[p.Step] = p
		in.issued = maps.Clone(in.issued)
		if in.issued == nil {
			in.issued = map[string]struct{}{}
		}
		in.issued[p.Step] = struct{}{}
	case CommandSucceeded:
		issued := in.Pending[p.Step]
		in.Pending = maps.Clone(in.Pending)
		delete(in.Pending, p.Step)
		if issued.Undo != nil {
			in.Done = append(slices.Clip(in.Done), issued)
		}
		if issued.UndoOf != "" {
			in.Done = slices.DeleteFunc(slices.Clone(in.Done), func(c CommandIssued) bool { return c.Step == issued.UndoOf })
		}
	case CommandRefused:
		in.Pending = maps.Clone(in.Pending)
		delete(in.Pending, p.Step)
	case DeadlineScheduled:
		in.Deadlines = maps.Clone(in.Deadlines)
		if in.Deadlines == nil {
			in.Deadlines = map[string]time.Time{}
		}
		in.Deadlines[p.Name] = p.At
	case DeadlineCancelled:
		in.Deadlines = maps.Clone(in.Deadlines)
		delete(in.Deadlines, p.Name)
	case DeadlineFired:
		in.Deadlines = maps.Clone(in.Deadlines)
		delete(in.Deadlines, p.Name)
	case CompensationStarted:
		in.Status, in.Reason = Compensating, p.Reason
	case Ended:
		in.Status, in.Reason = p.Outcome, p.Reason
	}
	in.State = d.Evolve(in.State, p)
	return in
}

// planner turns one input into the events to record, folding each into
// its copy of the instance as it goes, so later choices see earlier ones.
type planner[S any] struct {
	def  *Definition[S]
	inst Instance[S]
	out  []events.Payload
}

func (p *planner[S]) emit(e events.Payload) {
	p.out = append(p.out, e)
	p.inst = p.def.fold(p.inst, e)
}

// observe plans the reaction to an event of the log.
func (d *Definition[S]) observe(in Instance[S], e events.Event, payload any) []events.Payload {
	if in.Version > 0 && in.Status != Running || !in.seen.before(e) {
		return nil
	}
	dec := d.On(in.State, Observation{ProcessID: in.ID, Event: e, Payload: payload})
	if in.Version == 0 && dec.Empty() {
		return nil // not started, and this event does not start it
	}
	p := &planner[S]{def: d, inst: in}
	p.emit(Observed{EventID: e.ID, Type: e.Type, StreamID: e.StreamID, Version: e.Version, Position: e.Position})
	p.apply(dec)
	p.settle()
	return p.out
}

// reply plans the recording of a command's outcome and the reaction to it.
func (d *Definition[S]) reply(in Instance[S], r Reply) []events.Payload {
	issued, ok := in.Pending[r.Step]
	if !ok {
		return nil // answered already
	}
	p := &planner[S]{def: d, inst: in}
	if r.OK() {
		p.emit(CommandSucceeded{Step: r.Step, Result: r.Result, Position: r.Position, At: r.At})
	} else {
		p.emit(CommandRefused{Step: r.Step, Code: r.Refusal.Code, Message: r.Refusal.Message, At: r.At})
	}
	switch {
	case in.Status == Running:
		p.apply(d.OnReply(p.inst.State, r))
	case in.Status == Compensating && !r.OK() && issued.UndoOf != "":
		p.emit(Ended{Outcome: Failed, Reason: fmt.Sprintf("%s; then undoing %s was refused: %s", in.Reason, issued.UndoOf, r.Refusal.Message)})
	}
	p.settle()
	return p.out
}

// wake plans a deadline's firing: once, and only for the time it is
// pending at, so a stale or repeated firing records nothing.
func (d *Definition[S]) wake(in Instance[S], w Wake) []events.Payload {
	at, ok := in.Deadlines[w.Name]
	if !ok || !at.Equal(w.At) {
		return nil
	}
	p := &planner[S]{def: d, inst: in}
	p.emit(DeadlineFired{Name: w.Name, At: w.At})
	if in.Status == Running && d.OnDeadline != nil {
		p.apply(d.OnDeadline(p.inst.State, w))
	}
	p.settle()
	return p.out
}

// apply records a decision, or, if the definition decided something
// impossible, ends the process as failed saying what.
func (p *planner[S]) apply(dec Decision) {
	issued, err := p.check(dec)
	if err != nil {
		p.emit(Ended{Outcome: Failed, Reason: "definition error: " + err.Error()})
		return
	}
	for _, r := range dec.Record {
		p.emit(r)
	}
	for _, name := range dec.Cancel {
		if _, ok := p.inst.Deadlines[name]; ok {
			p.emit(DeadlineCancelled{Name: name})
		}
	}
	for _, s := range dec.Schedule {
		p.emit(DeadlineScheduled{Name: s.Name, At: s.At.UTC()})
	}
	for _, c := range issued {
		p.emit(c)
	}
	switch {
	case dec.Fail != "":
		p.emit(Ended{Outcome: Failed, Reason: dec.Fail})
	case dec.Compensate != "":
		p.emit(CompensationStarted{Reason: dec.Compensate})
	case dec.Complete:
		p.emit(Ended{Outcome: Completed})
	}
}

// check validates a decision and encodes its commands.
func (p *planner[S]) check(dec Decision) ([]CommandIssued, error) {
	endings := 0
	for _, b := range []bool{dec.Complete, dec.Compensate != "", dec.Fail != ""} {
		if b {
			endings++
		}
	}
	if endings > 1 {
		return nil, fmt.Errorf("a decision ends the process in %d ways at once", endings)
	}
	for _, s := range dec.Schedule {
		if !token(s.Name, false) || s.At.IsZero() {
			return nil, fmt.Errorf("deadline %q at %v: a lower-case name and a time are required", s.Name, s.At)
		}
	}
	steps := map[string]bool{}
	taken := func(step string) bool {
		_, done := p.inst.issued[step]
		return done || steps[step]
	}
	var out []CommandIssued
	for _, c := range dec.Send {
		spec, err := p.spec(c)
		if err != nil {
			return nil, err
		}
		issued := CommandIssued{CommandSpec: spec, IdempotencyKey: p.key(spec.Step)}
		if c.Undo != nil {
			undo := *c.Undo
			if undo.Step == "" {
				undo.Step = "undo_" + c.Step
			}
			u, err := p.spec(undo)
			if err != nil {
				return nil, fmt.Errorf("undo of %s: %w", c.Step, err)
			}
			issued.Undo = &u
		}
		for _, s := range []*CommandSpec{&issued.CommandSpec, issued.Undo} {
			if s != nil && taken(s.Step) {
				return nil, fmt.Errorf("step %q is used twice in this process", s.Step)
			}
			if s != nil {
				steps[s.Step] = true
			}
		}
		out = append(out, issued)
	}
	return out, nil
}

func (p *planner[S]) spec(c Command) (CommandSpec, error) {
	if !token(c.Step, false) {
		return CommandSpec{}, fmt.Errorf("step %q is not a lower-case word", c.Step)
	}
	if c.Service == "" || c.Op == "" {
		return CommandSpec{}, fmt.Errorf("step %s names no service or operation", c.Step)
	}
	data, err := json.Marshal(c.Payload)
	if err != nil {
		return CommandSpec{}, fmt.Errorf("step %s: encode payload: %w", c.Step, err)
	}
	return CommandSpec{Step: c.Step, Service: c.Service, Op: c.Op, Payload: data}, nil
}

// key is a step's idempotency key: the same for every resend, different
// for every process and step.
func (p *planner[S]) key(step string) string {
	return "process/" + p.def.Name + "/" + p.inst.ID + "/" + step
}

// settle drives a compensation: once no command is in flight, undo the
// newest step done, or, with nothing left to undo, end as compensated.
func (p *planner[S]) settle() {
	if p.inst.Status != Compensating || len(p.inst.Pending) > 0 {
		return
	}
	n := len(p.inst.Done)
	if n == 0 {
		p.emit(Ended{Outcome: Compensated, Reason: p.inst.Reason})
		return
	}
	last := p.inst.Done[n-1]
	p.emit(CommandIssued{CommandSpec: *last.Undo, IdempotencyKey: p.key(last.Undo.Step), UndoOf: last.Step})
}
