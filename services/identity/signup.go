package identity

import (
	"context"
	"encoding/json"
	"time"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
)

// abandonedAfter is how long a sign-up may hold its email's claim without
// registering its user. Past it, the sign-up has died (every step is
// bounded by seconds) and another sign-up with the email may take over.
const abandonedAfter = 2 * time.Minute

// signup registers a startup as one process that completes or undoes
// itself: it claims the email first, so of sign-ups racing for one
// address exactly one goes on; then registers the company (through the
// applications service, which validates it and claims its USCC), the org
// and the user. A refusal on the way (an invalid company, a USCC already
// taken) releases the claim, so nothing is left half done and the email
// stays free. A failure (a service unavailable) keeps it: a retry with
// the same Idempotency-Key has the same IDs and completes the sign-up, and
// a sign-up abandoned for good frees its email after abandonedAfter.
func (s *Service) signup(ctx context.Context, req *svc.Request, cmd identityapi.SignupCommand) (svc.Result[identityapi.User], error) {
	email, _ := identityapi.NormaliseEmail(cmd.Email)
	userID := req.NewID("identity.signup.user")
	if err := s.notErased(userID); err != nil {
		return svc.Result[identityapi.User]{}, err
	}
	if s.emailTaken(email, userID) {
		return svc.Result[identityapi.User]{}, emailTakenError(email)
	}
	companyID := req.NewID(identityapi.SignupEndpoint.Op)
	// Bad input is refused before anything is appended; the applications
	// service checks the company again when it registers it.
	company, err := companyPayload(cmd, companyID)
	if err != nil {
		return svc.Result[identityapi.User]{}, err
	}
	if err := s.claimForSignup(ctx, req, email, userID); err != nil {
		return svc.Result[identityapi.User]{}, err
	}
	u, pos, err := s.completeSignup(ctx, req, cmd, companyID, company, userID)
	if err != nil && refusal(err) {
		s.release(ctx, req, email, userID, "sign-up refused ("+fundbridge.ErrorCode(err)+")")
	}
	if err != nil {
		return svc.Result[identityapi.User]{}, err
	}
	return svc.Result[identityapi.User]{Value: u, Position: pos}, nil
}

// companyPayload is the sign-up's company as the applications service
// registers it, checked as that service checks it.
func companyPayload(cmd identityapi.SignupCommand, companyID string) (json.RawMessage, error) {
	company := map[string]json.RawMessage{}
	if err := json.Unmarshal(cmd.Company, &company); err != nil || company == nil {
		return nil, fundbridge.Invalid("invalid sign-up", fundbridge.FieldError{Field: "company", Reason: "must be an object"})
	}
	company["company_id"], _ = json.Marshal(companyID)
	payload, _ := json.Marshal(company)
	var rc applicationsapi.RegisterCompany
	if err := svc.Decode(payload, &rc); err != nil {
		return nil, prefixFields(err, "company.")
	}
	if err := rc.ValidateAt(time.Now()); err != nil {
		return nil, prefixFields(err, "company.")
	}
	return payload, nil
}

// completeSignup registers the company, its org and its first user.
func (s *Service) completeSignup(ctx context.Context, req *svc.Request, cmd identityapi.SignupCommand, companyID string, payload json.RawMessage, userID string) (identityapi.User, uint64, error) {
	system := fundbridge.Actor{UserID: Name, Role: fundbridge.RoleSystem}
	call := &svc.Request{Actor: system, CorrelationID: req.CorrelationID, CausationID: req.ID, Payload: payload}
	if req.IdempotencyKey != "" {
		call.IdempotencyKey = req.IdempotencyKey + ":company"
	}
	register := applicationsapi.RegisterCompanyEndpoint
	if _, err := s.calls.Call(ctx, register.Service, register.Op, call, nil); err != nil {
		return identityapi.User{}, 0, prefixFields(err, "company.")
	}
	var companyName struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(cmd.Company, &companyName)
	if _, _, err := s.orgs.Execute(ctx, companyID, meta(req, ":org"), svc.CheckedBefore, func(st orgState) ([]events.Payload, error) {
		return createOrg(st, identityapi.Org{OrgID: companyID, Name: companyName.Name, Role: fundbridge.RoleStartup})
	}); err != nil {
		return identityapi.User{}, 0, err
	}
	return s.register(ctx, req, cmd.NewUser, userID, companyID, fundbridge.RoleStartup)
}

// claimForSignup claims the email for the sign-up's user, taking over a
// claim whose sign-up was abandoned.
func (s *Service) claimForSignup(ctx context.Context, req *svc.Request, email, userID string) error {
	stream := emailStream(email)
	current, err := s.claims.Load(ctx, stream)
	if err != nil {
		return err
	}
	holder := current.State.UserID
	holderRegistered := true
	if holder != "" && holder != userID {
		u, err := s.users.Load(ctx, holder)
		if err != nil {
			return err
		}
		holderRegistered = u.Version > 0
	}
	now := time.Now()
	// No idempotency key: a claim released after a refusal must be taken
	// again by a corrected retry, not answered from the stream as done.
	// The decision is idempotent by itself (the user's own claim is kept).
	_, _, err = s.claims.Execute(ctx, stream, meta(&svc.Request{Actor: req.Actor, CorrelationID: req.CorrelationID, ID: req.ID, Op: req.Op}, ""), svc.CheckedBefore, func(st claimState) ([]events.Payload, error) {
		return claimForSignup(st, email, userID, st.UserID == holder && !holderRegistered, now)
	})
	return err
}

// claimForSignup decides a sign-up's claim: a free email is claimed, the
// sign-up's own claim is kept, a claim abandoned by a sign-up whose user
// never registered (holderGone) is taken over, any other is refused.
func claimForSignup(st claimState, email, userID string, holderGone bool, now time.Time) ([]events.Payload, error) {
	if st.UserID != "" && st.UserID != userID && holderGone && now.Sub(st.ClaimedAt) > abandonedAfter {
		return []events.Payload{
			identityapi.EmailReleased{UserID: st.UserID, Reason: "sign-up abandoned"},
			identityapi.EmailClaimed{UserID: userID},
		}, nil
	}
	return claimEmail(st, email, userID)
}

// release undoes the sign-up's claim. If it cannot (the log unavailable),
// the claim ends as an abandoned one does.
func (s *Service) release(ctx context.Context, req *svc.Request, email, userID, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _, _ = s.claims.Execute(ctx, emailStream(email), meta(&svc.Request{Actor: req.Actor, CorrelationID: req.CorrelationID, ID: req.ID, Op: req.Op}, ""), svc.CheckedBefore, func(st claimState) ([]events.Payload, error) {
		if st.UserID != userID {
			return nil, nil
		}
		return []events.Payload{identityapi.EmailReleased{UserID: userID, Reason: reason}}, nil
	})
}

// refusal reports whether err is a decision (the request is wrong or
// conflicts), after which nothing more will happen, rather than a failure
// a retry may get past.
func refusal(err error) bool {
	switch fundbridge.ErrorCode(err) {
	case fundbridge.EINVALID, fundbridge.ECONFLICT, fundbridge.EUNPROCESSABLE, fundbridge.EFORBIDDEN, fundbridge.ENOTFOUND:
		return true
	}
	return false
}

func emailTakenError(email string) error {
	return &fundbridge.Error{Code: fundbridge.ECONFLICT, Message: "email " + email + " is already registered",
		Fields: []fundbridge.FieldError{{Field: "email", Reason: "is already registered"}}}
}
