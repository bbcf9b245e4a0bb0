package projections

// Named is something a view names in its sentences by name rather than
// by ID: a company, an insurer, a programme.
type Named struct {
	ID, Name string
}

// SetName records id's name in list, in the order first seen, through
// index; a later name replaces the earlier one. An empty name is none.
func SetName(list *[]Named, index map[string]int32, id, name string) {
	if id == "" || name == "" {
		return
	}
	if i, ok := index[id]; ok {
		(*list)[i].Name = name
		return
	}
	index[id] = int32(len(*list))
	*list = append(*list, Named{ID: id, Name: name})
}

// NameOf is id's name in list, false if it has none.
func NameOf(list []Named, index map[string]int32, id string) (string, bool) {
	if i, ok := index[id]; ok {
		return list[i].Name, true
	}
	return "", false
}

// IndexNames is the index of a restored list.
func IndexNames(list []Named) map[string]int32 {
	m := make(map[string]int32, len(list))
	for i, n := range list {
		m[n.ID] = int32(i)
	}
	return m
}
