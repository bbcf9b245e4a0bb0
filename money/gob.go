package money

// GobEncode lets states holding amounts be checkpointed with encoding/gob
// (services/svc/viewstate); the decimal keeps its exact value.
func (a Amount) GobEncode() ([]byte, error) { return a.d.GobEncode() }

// GobDecode reads what GobEncode wrote.
func (a *Amount) GobDecode(data []byte) error { return a.d.GobDecode(data) }
