package insurance

import (
	"github.com/fundbridge/fundbridge/services/applications/applicationsapi"
)

// The views name the company a request or policy is for: an underwriter
// reads a company's name, not its ID. The name goes only beside the ID
// the reader already sees, so it reveals nothing new.

// foldCompanyNames keeps each company's name as it registered it and as
// it later renamed itself (called with mu held).
func (v *view) foldCompanyNames() {
	applicationsapi.FoldCompanyNames(&v.companyFolds, func(id, name string) { v.companies[id] = name })
}

// namer gives the names the views show beside IDs; "" for an ID it does
// not know.
type namer interface {
	companyName(id string) string
}

func (v *view) companyName(id string) string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.companies[id]
}
