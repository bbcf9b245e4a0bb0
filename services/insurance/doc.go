// Package insurance owns patent insurance: insurers' rating tables,
// startups' requests and the quotes on them, policies with their premium,
// claims, expiry and cancellation, and the public programmes that
// subsidise premiums.
//
// Each aggregate decides with pure functions (decide*: state, actor,
// command and the facts gathered at the edge → events or a refusal) and
// folds with another (evolve*); neither does I/O. The service that runs
// them over NATS, the views and the durable deadlines are built on top.
// docs/insurance.md states the rules for startups and insurers.
package insurance
