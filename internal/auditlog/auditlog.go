// Package auditlog writes the audit log (auditLog/{id}, model.AuditEntry): one entry
// per administrative or moderation action, written with the change it records.
package auditlog

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// Writer writes audit entries to Firestore. It is the Auditor of internal/rooms and
// internal/accounts.
type Writer struct{ FS *firestore.Client }

// Audit writes e in tx when tx is not nil, so the entry and the change commit
// together, or else on its own after the change succeeded (an Auth change cannot join a
// Firestore transaction).
func (w Writer) Audit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error {
	ref := w.FS.Collection(model.AuditLogCollection).NewDoc()
	var err error
	if tx != nil {
		err = tx.Create(ref, e)
	} else {
		_, err = ref.Create(ctx, e)
	}
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}
