package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	firestorepb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"github.com/gin-gonic/gin"
	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/internal/model"
)

// statsResponse is the body of GET /admin/v1/stats.
type statsResponse struct {
	Users         int64     `json:"users"`
	Rooms         int64     `json:"rooms"`
	GroupRooms    int64     `json:"groupRooms"`
	DirectRooms   int64     `json:"directRooms"`
	ArchivedRooms int64     `json:"archivedRooms"`
	Messages      int64     `json:"messages"`
	Devices       int64     `json:"devices"`
	AuditEntries  int64     `json:"auditEntries"`
	GeneratedAt   time.Time `json:"generatedAt"`
}

// stats is GET /admin/v1/stats: document counts from Firestore count
// aggregations (billed as one read per 1000 documents counted), run
// concurrently. users counts profiles (users/{uid}); Auth accounts that
// never wrote one are not in it.
func (s *Server) stats(c *gin.Context) {
	ctx := c.Request.Context()
	out := statsResponse{GeneratedAt: s.clock.Now().UTC()}
	rooms := s.fs.Collection(model.RoomsCollection)
	counts := []struct {
		dst *int64
		q   firestore.Query
	}{
		{&out.Users, s.fs.Collection(model.UsersCollection).Query},
		{&out.Rooms, rooms.Query},
		{&out.GroupRooms, rooms.Where("type", "==", string(model.RoomGroup))},
		{&out.DirectRooms, rooms.Where("type", "==", string(model.RoomDirect))},
		{&out.ArchivedRooms, rooms.Where("archived", "==", true)},
		{&out.Messages, s.fs.CollectionGroup(model.MessagesCollection).Query},
		{&out.Devices, s.fs.CollectionGroup(model.DevicesCollection).Query},
		{&out.AuditEntries, s.fs.Collection(model.AuditLogCollection).Query},
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, k := range counts {
		g.Go(func() error {
			n, err := count(gctx, k.q)
			*k.dst = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// count runs a count aggregation.
func count(ctx context.Context, q firestore.Query) (int64, error) {
	res, err := q.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	v, ok := res["n"].(*firestorepb.Value)
	if !ok {
		return 0, fmt.Errorf("count: unexpected result %T", res["n"])
	}
	return v.GetIntegerValue(), nil
}
