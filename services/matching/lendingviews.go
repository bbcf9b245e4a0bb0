package matching

import (
	"github.com/fundbridge/fundbridge"
	"github.com/fundbridge/fundbridge/services/matching/matchingapi"
	"github.com/fundbridge/fundbridge/services/svc/cursor"
)

// The views of lending programmes: a bank's programme board, the
// programmes an application fits, and fund–bank pairs.

// programmeItems lists, best first, the programmes an application fits.
// The caller holds the read lock.
func (v *views) programmeItems(applicationID string) []matchingapi.ProgrammeMatchItem {
	out := []matchingapi.ProgrammeMatchItem{}
	for _, m := range v.engine.ApplicationProgrammes(applicationID) {
		p, _ := v.engine.Programme(m.BankID, m.ProgrammeID)
		ev, _ := v.engine.ExplainProgramme(m.BankID, m.ProgrammeID, applicationID)
		out = append(out, matchingapi.ProgrammeMatchItem{BankID: p.BankID, BankName: p.BankName, ProgrammeID: p.ProgrammeID,
			ProgrammeName: p.Name, Score: m.Score, For: ev.For, Against: ev.Against, ForCodes: ev.ForCodes, AgainstCodes: ev.AgainstCodes})
	}
	return out
}

// programmeMatches pages a programme's board, best first, with reasons:
// the bank's own programmes, or any for operators.
func (v *views) programmeMatches(actor fundbridge.Actor, q matchingapi.MatchesForProgramme) (matchingapi.ProgrammeMatches, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.engine.Programme(q.BankID, q.ProgrammeID)
	if !ok || !seesBank(actor, q.BankID) {
		return matchingapi.ProgrammeMatches{}, fundbridge.Errorf(fundbridge.ENOTFOUND, "no programme %s of bank %s", q.ProgrammeID, q.BankID)
	}
	board := v.engine.ProgrammeBoard(q.BankID, q.ProgrammeID)
	query := cursor.For("programme", q.BankID, q.ProgrammeID)
	start, err := rankedPageStart(q.Cursor, query, len(board), func(i int) (int, string) { return board[i].Score, board[i].ApplicationID })
	if err != nil {
		return matchingapi.ProgrammeMatches{}, err
	}
	page := board[start:min(len(board), start+limitOr(q.Limit))]
	out := matchingapi.ProgrammeMatches{BankID: q.BankID, ProgrammeID: q.ProgrammeID, Items: make([]matchingapi.ProgrammeMatch, 0, len(page))}
	for _, m := range page {
		a, _ := v.engine.Application(m.ApplicationID)
		ev, _ := v.engine.ExplainProgramme(q.BankID, q.ProgrammeID, m.ApplicationID)
		out.Items = append(out.Items, matchingapi.ProgrammeMatch{Application: a, CreditDataConsent: v.engine.apps[m.ApplicationID].consent,
			Score: m.Score, For: ev.For, Against: ev.Against, ForCodes: ev.ForCodes, AgainstCodes: ev.AgainstCodes})
	}
	if start+len(page) < len(board) {
		last := page[len(page)-1]
		out.NextCursor = pageCursor(query, int64(-last.Score), last.ApplicationID)
	}
	return out, nil
}

// seesBank reports whether the actor is the bank (or sees everything).
func seesBank(actor fundbridge.Actor, bankID string) bool {
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
		return true
	case fundbridge.RoleBank:
		return actor.OrgID != "" && actor.OrgID == bankID
	}
	return false
}

// pairs ranks the fund–bank pairs of a loan-plus-equity application. The
// startup that applied and operators see every pair; a fund manager the
// pairs with its funds, a bank those with its programmes. Someone with no
// pair on the application is told there is no such application.
func (v *views) pairs(actor fundbridge.Actor, q matchingapi.PairsForApplication) (matchingapi.Pairs, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	st := v.apps[q.ApplicationID]
	missing := fundbridge.Errorf(fundbridge.ENOTFOUND, "no application %s", q.ApplicationID)
	if st == nil {
		return matchingapi.Pairs{}, missing
	}
	var keep func(Pair) bool
	switch actor.Role {
	case fundbridge.RoleOperator, fundbridge.RoleSystem:
	case fundbridge.RoleStartup:
		if actor.OrgID == "" || actor.OrgID != st.companyID {
			return matchingapi.Pairs{}, missing
		}
	case fundbridge.RoleFundManager:
		keep = func(p Pair) bool {
			f, ok := v.engine.Fund(p.FundID)
			return ok && manages(actor, f)
		}
	case fundbridge.RoleBank:
		keep = func(p Pair) bool { return seesBank(actor, p.BankID) }
	default:
		return matchingapi.Pairs{}, missing
	}
	out := matchingapi.Pairs{ApplicationID: q.ApplicationID, Items: []matchingapi.Pair{}}
	for _, p := range v.engine.Pairs(q.ApplicationID, limitOr(q.Limit), keep) {
		f, _ := v.engine.Fund(p.FundID)
		prog, _ := v.engine.Programme(p.BankID, p.ProgrammeID)
		item := matchingapi.Pair{FundID: p.FundID, FundName: f.Name, FundScore: p.FundScore, BankID: p.BankID, BankName: prog.BankName,
			ProgrammeID: p.ProgrammeID, ProgrammeName: prog.Name, ProgrammeScore: p.ProgrammeScore, Score: p.Score}
		item.Propose.BorrowerID, item.Propose.ApplicationID, item.Propose.LeadBankID = st.companyID, q.ApplicationID, p.BankID
		item.Propose.Equity.FundID = p.FundID
		out.Items = append(out.Items, item)
	}
	if keep != nil && len(out.Items) == 0 {
		return matchingapi.Pairs{}, missing
	}
	return out, nil
}
