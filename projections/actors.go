package projections

import (
	"strings"

	"github.com/fundbridge/fundbridge"
)

// InternActor returns a's index in list, appending it when new. Views keep
// each actor once and refer to it by index, so a long log of the same few
// users costs little. The event's strings are views of the message it came
// in, so a new actor's strings are copied.
func InternActor(list *[]fundbridge.Actor, index map[fundbridge.Actor]uint32, a fundbridge.Actor) uint32 {
	if i, ok := index[a]; ok {
		return i
	}
	a = fundbridge.Actor{UserID: strings.Clone(a.UserID), Role: fundbridge.Role(strings.Clone(string(a.Role))), OrgID: strings.Clone(a.OrgID)}
	i := uint32(len(*list))
	*list = append(*list, a)
	index[a] = i
	return i
}

// IndexActors rebuilds the index of an interned list restored from a snapshot.
func IndexActors(list []fundbridge.Actor) map[fundbridge.Actor]uint32 {
	index := make(map[fundbridge.Actor]uint32, len(list))
	for i, a := range list {
		index[a] = uint32(i)
	}
	return index
}
