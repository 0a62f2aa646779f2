package rooms

import (
	"fmt"
	"strings"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// systemMessage returns the fields of a system message ("Ann added Bob") by
// actor, timestamped by the Firestore server like client messages are, so
// history orders it correctly among them.
func systemMessage(actorUID, text string) map[string]any {
	return map[string]any{
		"senderId":  actorUID,
		"type":      string(model.MessageSystem),
		"text":      model.PreviewOf(text),
		"createdAt": firestore.ServerTimestamp,
	}
}

// addSystemMessage writes a system message by actor into roomID in tx.
func (s *Service) addSystemMessage(tx *firestore.Transaction, roomID, actorUID, text string) error {
	ref := s.fs.Collection(model.MessagesCollectionPath(roomID)).NewDoc()
	return tx.Create(ref, systemMessage(actorUID, text))
}

// displayName returns a user's name for a system message.
func displayName(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Someone"
	}
	return name
}

// joinNames lists names for a system message: "Bob", "Bob and Carol",
// "Bob, Carol and 3 others".
func joinNames(names []string) string {
	for i, n := range names {
		names[i] = displayName(n)
	}
	switch len(names) {
	case 0:
		return "nobody"
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	case 3:
		return names[0] + ", " + names[1] + " and " + names[2]
	}
	return fmt.Sprintf("%s, %s and %d others", names[0], names[1], len(names)-2)
}

func roleNoun(r model.Role) string {
	switch r {
	case model.RoleOwner:
		return "an owner"
	case model.RoleAdmin:
		return "an admin"
	}
	return "a member"
}
