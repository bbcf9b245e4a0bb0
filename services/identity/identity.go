// Package identity keeps the platform's organisations and users, signs
// startups up, onboards the other orgs, and checks passwords. Tokens are
// the gateway's business; this service only says who someone is.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/events"
	"github.com/fundbridge/fundbridge/events/fold"
	"github.com/fundbridge/fundbridge/services/identity/identityapi"
	"github.com/fundbridge/fundbridge/services/svc"
	"github.com/fundbridge/fundbridge/services/svc/viewstate"
)

// Name is the service's name on the bus.
const Name = identityapi.Name

type orgState struct{ Org identityapi.Org }

// userState is what deciding about a user needs: never their personal data.
type userState struct {
	UserID, OrgID string
	Erased        bool
}
type claimState struct {
	UserID    string
	ClaimedAt time.Time
}

// The aggregates, each folded with one step per event type.
var (
	orgDecider   = svc.Decider[orgState]{Type: "org", Initial: func() orgState { return orgState{} }, Evolve: orgFolds().Apply}
	userDecider  = svc.Decider[userState]{Type: "user", Initial: func() userState { return userState{} }, Evolve: userFolds().Apply}
	claimDecider = svc.Decider[claimState]{Type: "email", Initial: func() claimState { return claimState{} }, Evolve: claimFolds().Apply}
)

func orgFolds() *fold.Evolve[orgState] {
	var f fold.Evolve[orgState]
	fold.Step(&f, func(s orgState, _ events.Event, e identityapi.OrgCreated) orgState {
		s.Org = identityapi.Org(e)
		return s
	})
	return &f
}

func userFolds() *fold.Evolve[userState] {
	var f fold.Evolve[userState]
	fold.Step(&f, func(s userState, _ events.Event, e identityapi.UserRegistered) userState {
		s.UserID, s.OrgID = e.UserID, e.OrgID
		return s
	})
	fold.Step(&f, func(s userState, _ events.Event, _ identityapi.UserErased) userState {
		s.Erased = true
		return s
	})
	return &f
}

func claimFolds() *fold.Evolve[claimState] {
	var f fold.Evolve[claimState]
	fold.Step(&f, func(_ claimState, ev events.Event, e identityapi.EmailClaimed) claimState {
		return claimState{UserID: e.UserID, ClaimedAt: ev.RecordedAt}
	})
	fold.Step(&f, func(s claimState, _ events.Event, e identityapi.EmailReleased) claimState {
		if e.UserID == s.UserID {
			return claimState{}
		}
		return s
	})
	return &f
}

// createOrg opens the org once; the same creation again changes nothing.
func createOrg(s orgState, o identityapi.Org) ([]events.Payload, error) {
	if s.Org.OrgID != "" {
		if s.Org == o {
			return nil, nil
		}
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "org %s already exists", o.OrgID)
	}
	return []events.Payload{identityapi.OrgCreated(o)}, nil
}

// claimEmail reserves the address for the user, once.
func claimEmail(s claimState, email, userID string) ([]events.Payload, error) {
	switch s.UserID {
	case "":
		return []events.Payload{identityapi.EmailClaimed{UserID: userID}}, nil
	case userID:
		return nil, nil
	}
	return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "email %s is already registered", email)
}

// registerUser adds the user once; an erased user stays erased.
func registerUser(s userState, e identityapi.UserRegistered) ([]events.Payload, error) {
	switch {
	case s.Erased:
		return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "user %s was erased", e.UserID)
	case s.UserID == "":
		return []events.Payload{e}, nil
	case s.OrgID == e.OrgID: // a retried registration (user IDs are never reused)
		return nil, nil
	}
	return nil, fundbridge.Errorf(fundbridge.ECONFLICT, "user %s already exists", e.UserID)
}

// eraseUser records the user's erasure once; erasing again changes nothing.
func eraseUser(s userState, userID string) ([]events.Payload, error) {
	switch {
	case s.UserID == "":
		return nil, fundbridge.Errorf(fundbridge.ENOTFOUND, "no user %s", userID)
	case s.Erased:
		return nil, nil
	}
	return []events.Payload{identityapi.UserErased{UserID: userID}}, nil
}

// Caller is how the service reaches the others over NATS.
type Caller interface {
	Call(ctx context.Context, service, op string, req *svc.Request, out any) (svc.Reply, error)
}

type config struct {
	bcryptCost    int
	credentialKey []byte
	personKeys    PersonKeys
	checkpoints   string
	log           *slog.Logger
}

// Option tunes a Service.
type Option func(*config)

// WithBcryptCost sets the work factor of password hashes (tests lower
// it); 0 keeps bcrypt's default.
func WithBcryptCost(cost int) Option {
	return func(c *config) {
		if cost != 0 {
			c.bcryptCost = cost
		}
	}
}

// WithCredentialKey seals password hashes with key (CredentialKeySize
// bytes). It is identity's alone, kept outside the log (a file in its
// data directory); without it no password can be set or checked.
func WithCredentialKey(key []byte) Option { return func(c *config) { c.credentialKey = key } }

// WithPersonKeys keeps the keys sealing each person's email and name in
// keys (see personal.go); without it no user can be registered.
func WithPersonKeys(keys PersonKeys) Option { return func(c *config) { c.personKeys = keys } }

// WithCheckpoints keeps the directory's checkpoint in dir, so a restart
// folds only the log's tail; "" (the default) folds from 0 each start.
func WithCheckpoints(dir string) Option { return func(c *config) { c.checkpoints = dir } }

// WithLogger logs to l instead of slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// Service is the identity service.
type Service struct {
	store    events.Store
	calls    Caller
	cost     int
	orgs     *svc.Repository[orgState]
	users    *svc.Repository[userState]
	claims   *svc.Repository[claimState]
	follower *viewstate.View
	sealer   *sealer
	// sealerErr says why there is no sealer: no passwords can be set or
	// checked without one.
	sealerErr error
	keys      PersonKeys

	// The directory: users with their email and name opened. An erased
	// user is in byID only, with no email, ErasedName and erased set.
	mu      sync.RWMutex
	byEmail map[string]identityapi.UserRegistered
	byID    map[string]identityapi.UserRegistered
	erased  map[string]bool
	orgByID map[string]identityapi.Org
	// dummyHash is compared against when the email is unknown, so that a
	// wrong email costs as long as a wrong password.
	dummyHash []byte
}

// New returns the service over the store, reaching the applications service through calls.
func New(store events.Store, registry *events.Registry, calls Caller, opts ...Option) *Service {
	c := config{bcryptCost: bcrypt.DefaultCost, log: slog.Default()}
	for _, o := range opts {
		o(&c)
	}
	s := &Service{
		store: store, calls: calls, cost: c.bcryptCost, keys: c.personKeys, erased: map[string]bool{},
		orgs:    svc.NewRepository(store, registry, orgDecider, svc.RepositoryOptions{}),
		users:   svc.NewRepository(store, registry, userDecider, svc.RepositoryOptions{}),
		claims:  svc.NewRepository(store, registry, claimDecider, svc.RepositoryOptions{}),
		byEmail: map[string]identityapi.UserRegistered{}, byID: map[string]identityapi.UserRegistered{}, orgByID: map[string]identityapi.Org{},
	}
	s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a real password"), c.bcryptCost)
	s.sealer, s.sealerErr = newSealer(c.credentialKey)
	folds := s.directoryFolds()
	apply := func(e events.Event) error {
		switch e.Type { // what the folds handle, in every version (not decoded otherwise)
		case identityapi.UserRegistered{}.EventType(), identityapi.UserRegisteredV2, identityapi.UserRegisteredV1,
			identityapi.UserErased{}.EventType(), identityapi.OrgCreated{}.EventType():
		default:
			return nil
		}
		e, p, err := registry.Decode(e)
		if err != nil {
			return err
		}
		return folds.Apply(e, p)
	}
	s.follower = viewstate.New("identity", store, directory{s}, apply, viewstate.Options{Dir: c.checkpoints, Version: directoryVersion, Logger: c.log.With("service", Name)})
	return s
}

// directoryFolds keep the directory current with identity's events, one
// function per event type.
func (s *Service) directoryFolds() *fold.Handlers {
	var h fold.Handlers
	fold.On(&h, func(_ events.Event, v identityapi.UserRegistered) error { return s.registered(v) })
	fold.On(&h, func(_ events.Event, v identityapi.UserErased) error { return s.erasedUser(v) })
	fold.On(&h, func(_ events.Event, v identityapi.OrgCreated) error {
		s.mu.Lock()
		s.orgByID[v.OrgID] = identityapi.Org(v)
		s.mu.Unlock()
		return nil
	})
	return &h
}

// registered adds a user to the directory, with the email and name opened
// with the person's key; without the key the person was erased.
func (s *Service) registered(v identityapi.UserRegistered) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	person, err := s.openPersonal(ctx, v)
	if err != nil && !errors.Is(err, errNoPersonKey) {
		return err
	}
	v.Email, v.Name = person.Email, person.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || s.erased[v.UserID] { // no key: the person was erased
		v.Email, v.Name = "", identityapi.ErasedName
		s.erased[v.UserID] = true
	} else {
		s.byEmail[v.Email] = v
	}
	s.byID[v.UserID] = v
	return nil
}

// erasedUser hides an erased person in the directory.
func (s *Service) erasedUser(v identityapi.UserErased) error {
	s.mu.Lock()
	if u, ok := s.byID[v.UserID]; ok {
		if s.byEmail[u.Email].UserID == v.UserID {
			delete(s.byEmail, u.Email)
		}
		u.Email, u.Name = "", identityapi.ErasedName
		s.byID[v.UserID] = u
	}
	s.erased[v.UserID] = true
	s.mu.Unlock()
	// The erasing request destroys the key after recording the erasure;
	// should it have stopped between the two, this does.
	if s.keys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.keys.Get(ctx, v.UserID); err == nil {
			return s.keys.Destroy(ctx, v.UserID)
		}
	}
	return nil
}

// Run keeps the user directory current until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	err := s.follower.Run(ctx)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Position is the log position the service's views reflect; a process
// is ready once it reaches the log's head at start.
func (s *Service) Position() uint64 { return s.follower.Position() }

// Runtime is the service's operations on the bus.
func (s *Service) Runtime() svc.Service {
	return svc.Service{Name: Name, Description: "Orgs, users and sign-in",
		Operations: svc.Operations(
			svc.Handle(identityapi.SignupEndpoint, s.signup),
			svc.Handle(identityapi.CreateOrgEndpoint, s.createOrg),
			svc.Handle(identityapi.AuthenticateEndpoint, s.authenticate),
			svc.Handle(identityapi.BootstrapOperatorEndpoint, s.bootstrapOperator),
			svc.Handle(identityapi.MeEndpoint, s.me),
			svc.Handle(identityapi.EraseUserEndpoint, s.eraseUser),
			svc.Handle(identityapi.GetUserEndpoint, s.getUser),
			svc.Handle(identityapi.GetOrgEndpoint, s.getOrg),
		)}
}

func emailStream(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:16])
}

func meta(req *svc.Request, keySuffix string) svc.Command {
	key := ""
	if req.IdempotencyKey != "" {
		key = req.IdempotencyKey + keySuffix
	}
	return svc.Command{Meta: events.Meta{Actor: req.Actor, CorrelationID: req.CorrelationID, CausationID: req.ID, Command: req.Op, IdempotencyKey: key}}
}

// addUser claims the email, then registers the user; the claim makes
// emails unique across concurrent sign-ups.
func (s *Service) addUser(ctx context.Context, req *svc.Request, u identityapi.NewUser, userID, orgID string, role fundbridge.Role) (identityapi.User, uint64, error) {
	user, pos, _, err := s.addUserOnce(ctx, req, u, userID, orgID, role)
	return user, pos, err
}

// addUserOnce is addUser that also says whether the email was new.
func (s *Service) addUserOnce(ctx context.Context, req *svc.Request, u identityapi.NewUser, userID, orgID string, role fundbridge.Role) (identityapi.User, uint64, bool, error) {
	email, _ := identityapi.NormaliseEmail(u.Email)
	claim, err := s.claim(ctx, req, email, userID)
	if err != nil {
		return identityapi.User{}, 0, false, err
	}
	created := claim.FirstVersion <= claim.LastVersion && !claim.Duplicate
	if !created && role == fundbridge.RoleOperator && orgID == "operators" {
		user := identityapi.User{UserID: userID, Email: email, Name: u.Name, Role: role, OrgID: orgID}
		return user, claim.Position, false, nil // the first operator exists: keep its password
	}
	user, pos, err := s.register(ctx, req, u, userID, orgID, role)
	return user, pos, created, err
}

// claim reserves the email for the user: the claim makes emails unique
// across concurrent sign-ups.
func (s *Service) claim(ctx context.Context, req *svc.Request, email, userID string) (events.AppendResult, error) {
	res, _, err := s.claims.Execute(ctx, emailStream(email), meta(req, ":claim"), svc.CheckedBefore, func(st claimState) ([]events.Payload, error) {
		return claimEmail(st, email, userID)
	})
	return res, err
}

// notErased refuses a retry of the request that made a person since
// erased: sealing their details again would make them a new key and bring
// them back, and undoing its sign-up would free their email. Asked first,
// before anything is appended.
func (s *Service) notErased(userID string) error {
	s.mu.RLock()
	erased := s.erased[userID]
	s.mu.RUnlock()
	if erased {
		return fundbridge.Errorf(fundbridge.ECONFLICT, "the person this request made was erased; send a new request (a new Idempotency-Key) to start again")
	}
	return nil
}

// register adds the user whose email is claimed.
func (s *Service) register(ctx context.Context, req *svc.Request, u identityapi.NewUser, userID, orgID string, role fundbridge.Role) (identityapi.User, uint64, error) {
	email, _ := identityapi.NormaliseEmail(u.Email)
	if err := s.notErased(userID); err != nil {
		return identityapi.User{}, 0, err
	}
	if s.sealer == nil {
		return identityapi.User{}, 0, fmt.Errorf("no password can be kept: %w", s.sealerErr)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), s.cost)
	if err != nil {
		return identityapi.User{}, 0, fmt.Errorf("hash password: %w", err)
	}
	credential, err := s.sealer.seal(userID, hash)
	if err != nil {
		return identityapi.User{}, 0, err
	}
	sealed, err := s.sealPersonal(ctx, userID, personal{Email: email, Name: u.Name})
	if err != nil {
		return identityapi.User{}, 0, err
	}
	e := identityapi.UserRegistered{UserID: userID, Role: role, OrgID: orgID, Credential: credential, Personal: sealed}
	res, _, err := s.users.Execute(ctx, userID, meta(req, ":user"), svc.CheckedBefore, func(st userState) ([]events.Payload, error) {
		return registerUser(st, e)
	})
	if err != nil {
		return identityapi.User{}, 0, err
	}
	return identityapi.User{UserID: userID, Email: email, Name: u.Name, Role: role, OrgID: orgID}, res.Position, nil
}

// emailTaken reports whether another user than userID has the email; a
// retried request finds its own user there.
func (s *Service) emailTaken(email, userID string) bool {
	norm, _ := identityapi.NormaliseEmail(email)
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, taken := s.byEmail[norm]
	return taken && u.UserID != userID
}

// prefixFields names a nested service's invalid fields from the caller's body.
func prefixFields(err error, prefix string) error {
	var fe *fundbridge.Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		return err
	}
	out := &fundbridge.Error{Code: fe.Code, Message: fe.Message}
	for _, f := range fe.Fields {
		out.Fields = append(out.Fields, fundbridge.FieldError{Field: prefix + f.Field, Reason: f.Reason})
	}
	return out
}

func (s *Service) createOrg(ctx context.Context, req *svc.Request, cmd identityapi.CreateOrgCommand) (svc.Result[identityapi.OrgOnboarded], error) {
	userID := req.NewID("identity.create_org.user")
	if err := s.notErased(userID); err != nil {
		return svc.Result[identityapi.OrgOnboarded]{}, err
	}
	if s.emailTaken(cmd.User.Email, userID) {
		return svc.Result[identityapi.OrgOnboarded]{}, fundbridge.Errorf(fundbridge.ECONFLICT, "email %s is already registered", cmd.User.Email)
	}
	orgID := req.NewID(identityapi.CreateOrgEndpoint.Op)
	org := identityapi.Org{OrgID: orgID, Name: cmd.Name, Role: cmd.Role}
	if _, _, err := s.orgs.Execute(ctx, orgID, meta(req, ":org"), svc.CheckedBefore, func(st orgState) ([]events.Payload, error) {
		return createOrg(st, org)
	}); err != nil {
		return svc.Result[identityapi.OrgOnboarded]{}, err
	}
	u, pos, err := s.addUser(ctx, req, cmd.User, userID, orgID, cmd.Role)
	if err != nil {
		return svc.Result[identityapi.OrgOnboarded]{}, err
	}
	return svc.Result[identityapi.OrgOnboarded]{Value: identityapi.OrgOnboarded{Org: org, User: u}, Position: pos}, nil
}

func (s *Service) authenticate(ctx context.Context, req *svc.Request, q identityapi.AuthenticateQuery) (svc.Result[identityapi.User], error) {
	email, _ := identityapi.NormaliseEmail(q.Email)
	lookup := func() (identityapi.UserRegistered, bool) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		u, ok := s.byEmail[email]
		return u, ok
	}
	u, ok := lookup()
	caughtUp := false
	if !ok {
		// Signing in right after signing up: let the directory catch up
		// with the log before saying no.
		if err := s.follower.CatchUp(ctx); err != nil {
			return svc.Result[identityapi.User]{}, err
		}
		u, ok = lookup()
		caughtUp = true
	}
	hash := s.dummyHash
	if ok {
		h, err := s.passwordHash(u)
		if err != nil {
			return svc.Result[identityapi.User]{}, fmt.Errorf("user %s: %w", u.UserID, err)
		}
		hash = h
	}
	wrong := fundbridge.Errorf(fundbridge.EUNAUTHORIZED, "email or password is wrong")
	if err := bcrypt.CompareHashAndPassword(hash, []byte(q.Password)); err != nil || !ok {
		return svc.Result[identityapi.User]{}, wrong
	}
	// Passwords never change, but a known user may have been erased a
	// moment ago: catch up before granting, so that an erasure already
	// acknowledged refuses every sign-in after it.
	if !caughtUp {
		if err := s.follower.CatchUp(ctx); err != nil {
			return svc.Result[identityapi.User]{}, err
		}
		if _, still := lookup(); !still {
			return svc.Result[identityapi.User]{}, wrong
		}
	}
	return svc.Result[identityapi.User]{Value: shown(u, false)}, nil
}

// shown is a registered user as the service shows them.
func shown(u identityapi.UserRegistered, erased bool) identityapi.User {
	return identityapi.User{UserID: u.UserID, Email: u.Email, Name: u.Name, Role: u.Role, OrgID: u.OrgID, Erased: erased}
}

// bootstrapOperator creates the platform's first operator once; later
// calls with the same email change nothing.
func (s *Service) bootstrapOperator(ctx context.Context, req *svc.Request, cmd identityapi.BootstrapOperatorCommand) (svc.Result[identityapi.BootstrapResult], error) {
	u := identityapi.NewUser{Email: cmd.Email, Password: cmd.Password, Name: "Operator"}
	if fields := u.Problems(""); len(fields) > 0 {
		return svc.Result[identityapi.BootstrapResult]{}, fundbridge.Invalid("invalid operator", fields...)
	}
	email, _ := identityapi.NormaliseEmail(cmd.Email)
	// Fixed IDs: the first operator is the same on every start.
	orgID, userID := "operators", "operator-"+emailStream(email)[:12]
	if _, _, err := s.orgs.Execute(ctx, orgID, svc.Command{Meta: events.Meta{Actor: req.Actor, CausationID: req.ID, Command: req.Op}}, svc.CheckedBefore, func(st orgState) ([]events.Payload, error) {
		return createOrg(st, identityapi.Org{OrgID: orgID, Name: "Fundbridge operators", Role: fundbridge.RoleOperator})
	}); err != nil {
		return svc.Result[identityapi.BootstrapResult]{}, err
	}
	user, pos, created, err := s.addUserOnce(ctx, req, u, userID, orgID, fundbridge.RoleOperator)
	if err != nil {
		return svc.Result[identityapi.BootstrapResult]{}, err
	}
	return svc.Result[identityapi.BootstrapResult]{Value: identityapi.BootstrapResult{User: user, Created: created}, Position: pos}, nil
}

func (s *Service) me(ctx context.Context, req *svc.Request, q identityapi.MeQuery) (svc.Result[identityapi.Me], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[identityapi.Me]{}, err
	}
	s.mu.RLock()
	u, ok := s.byID[req.Actor.UserID]
	erased := s.erased[req.Actor.UserID]
	org := s.orgByID[u.OrgID]
	s.mu.RUnlock()
	if !ok {
		return svc.Result[identityapi.Me]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no user %s", req.Actor.UserID)
	}
	return svc.Result[identityapi.Me]{Value: identityapi.Me{User: shown(u, erased), Org: org}}, nil
}

// getUser shows a user to themself, their org and operators; to anyone
// else there is no such user.
func (s *Service) getUser(ctx context.Context, req *svc.Request, q identityapi.GetUserQuery) (svc.Result[identityapi.User], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[identityapi.User]{}, err
	}
	s.mu.RLock()
	u, ok := s.byID[q.UserID]
	erased := s.erased[q.UserID]
	s.mu.RUnlock()
	a := req.Actor
	if !ok || (a.UserID != u.UserID && a.OrgID != u.OrgID && a.Role != fundbridge.RoleOperator && a.Role != fundbridge.RoleSystem) {
		return svc.Result[identityapi.User]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no user %s", q.UserID)
	}
	return svc.Result[identityapi.User]{Value: shown(u, erased)}, nil
}

// eraseUser erases a person's personal data: it records the erasure, then
// destroys their key, so that the email and name sealed in their events
// can never be read again. The person themself or an operator may.
func (s *Service) eraseUser(ctx context.Context, req *svc.Request, cmd identityapi.EraseUserCommand) (svc.Result[identityapi.ErasedUser], error) {
	if req.Actor.UserID != cmd.UserID && req.Actor.Role != fundbridge.RoleOperator {
		return svc.Result[identityapi.ErasedUser]{}, fundbridge.Errorf(fundbridge.EFORBIDDEN, "only the person themself or an operator may erase a user")
	}
	if s.keys == nil {
		return svc.Result[identityapi.ErasedUser]{}, errors.New("identity has no person keys to destroy")
	}
	// The actor was checked against the request above (the person or an operator).
	res, _, err := s.users.Execute(ctx, cmd.UserID, meta(req, ":erase"), svc.CheckedBefore, func(st userState) ([]events.Payload, error) {
		return eraseUser(st, cmd.UserID)
	})
	if err != nil {
		return svc.Result[identityapi.ErasedUser]{}, err
	}
	if err := s.keys.Destroy(ctx, cmd.UserID); err != nil {
		return svc.Result[identityapi.ErasedUser]{}, fmt.Errorf("erasure of %s recorded, key not yet destroyed (identity retries on its next start): %w", cmd.UserID, err)
	}
	return svc.Result[identityapi.ErasedUser]{Value: identityapi.ErasedUser{UserID: cmd.UserID, Erased: true}, Position: res.Position}, nil
}

// getOrg answers an operator about any org, and a user about its own;
// anyone else's is not found.
func (s *Service) getOrg(ctx context.Context, req *svc.Request, q identityapi.GetOrg) (svc.Result[identityapi.Org], error) {
	if err := s.follower.WaitFor(ctx, q.After); err != nil {
		return svc.Result[identityapi.Org]{}, err
	}
	s.mu.RLock()
	org, ok := s.orgByID[q.OrgID]
	s.mu.RUnlock()
	if !ok || req.Actor.Role != fundbridge.RoleOperator && req.Actor.Role != fundbridge.RoleSystem && req.Actor.OrgID != q.OrgID {
		return svc.Result[identityapi.Org]{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no org %s", q.OrgID)
	}
	return svc.Result[identityapi.Org]{Value: org}, nil
}
