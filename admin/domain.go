package admin

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/accounts"
	"github.com/hearth-chat/hearth/internal/blocks"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/reports"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// The domain under the handlers: internal/rooms (rooms, members,
// moderation) and internal/accounts (users). Handlers decode the request,
// call a service method and encode its result; errors.go maps the services'
// typed errors to the API's.

// newDomain builds the room and account services on the server's clients.
func (s *Server) newDomain() error {
	var err error
	s.rooms, err = rooms.New(rooms.Deps{Firestore: s.fs, Users: s.auth, Audit: auditor{s}, Clock: s.clock})
	if err != nil {
		return fmt.Errorf("rooms: %w", err)
	}
	s.accounts, err = accounts.New(accounts.Deps{Firestore: s.fs, Users: s.auth, Revocations: s.revocations,
		Audit: auditor{s}, Rooms: s.rooms, Media: mediaEraser{s}, Clock: s.clock})
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	s.reports, err = reports.New(reports.Config{HideThreshold: s.cfg.ReportHideThreshold, PerHour: s.cfg.ReportsPerHour},
		reports.Deps{Firestore: s.fs, Rooms: s.rooms, Audit: auditor{s}, Clock: s.clock})
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	s.blocks, err = blocks.New(blocks.Deps{Firestore: s.fs, Clock: s.clock})
	if err != nil {
		return fmt.Errorf("blocks: %w", err)
	}
	return nil
}

// requestIDKey carries the request id in the context the services get, so
// the audit entries they write name the request.
type requestIDKey struct{}

// actionContext is the request's context with its request id, for a
// service call that may write audit entries.
func actionContext(c *gin.Context) context.Context {
	return context.WithValue(c.Request.Context(), requestIDKey{}, requestID(c))
}

// auditor writes the services' audit entries (rooms.Auditor,
// accounts.Auditor), stamped with the request id of the context.
type auditor struct{ s *Server }

func (a auditor) Audit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		e.RequestID = id
	}
	return a.s.writeAudit(ctx, tx, e)
}

// mediaEraser is the accounts.MediaEraser of the server's media service,
// which may be configured after New or not at all.
type mediaEraser struct{ s *Server }

func (m mediaEraser) EraseUserMedia(ctx context.Context, uid string) (int, error) {
	return m.s.eraseMedia(ctx, uid)
}
