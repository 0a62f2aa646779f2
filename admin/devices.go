package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/gin-gonic/gin"

	"github.com/hearth-chat/hearth/internal/model"
)

// deviceRequest is the body of PUT /v1/devices/{deviceId}.
type deviceRequest struct {
	Token      string         `json:"token"`
	Platform   model.Platform `json:"platform"`
	Locale     string         `json:"locale"`
	AppVersion string         `json:"appVersion"`
}

// apiDevice is the JSON of a device registration.
type apiDevice struct {
	DeviceID   string         `json:"deviceId"`
	Platform   model.Platform `json:"platform"`
	Locale     string         `json:"locale,omitempty"`
	AppVersion string         `json:"appVersion,omitempty"`
	UpdatedAt  time.Time      `json:"updatedAt"`
}

// putDevice is PUT /v1/devices/{deviceId} {token, platform, locale?,
// appVersion?}: registers (or refreshes) the caller's device for push. An
// FCM token belongs to one app install, so wherever else it is registered —
// another user who signed out on that phone, or an older deviceId of the
// same user — that registration is deleted in the same transaction: pushes
// never reach the previous user, and never arrive twice.
//
// The lookup is a collection-group query on devices.token, which needs a
// COLLECTION_GROUP single-field index in production (firestore.indexes.json).
func (s *Server) putDevice(c *gin.Context) {
	ctx := c.Request.Context()
	p := principalOf(c)
	deviceID, err := pathID(c, "deviceId")
	if err != nil {
		fail(c, err)
		return
	}
	var req deviceRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	d := model.Device{Token: req.Token, Platform: req.Platform, Locale: req.Locale,
		AppVersion: req.AppVersion, UpdatedAt: s.clock.Now().UTC()}
	if err := model.ValidateDevice(deviceID, d); err != nil {
		fail(c, err)
		return
	}
	ref := s.fs.Doc(model.DevicePath(p.UID, deviceID))
	moved := 0
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		moved = 0
		others, err := tx.Documents(s.fs.CollectionGroup(model.DevicesCollection).Where("token", "==", d.Token)).GetAll()
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.Ref.Path == ref.Path || !isUserDevice(o.Ref) {
				continue
			}
			if err := tx.Delete(o.Ref); err != nil {
				return err
			}
			moved++
		}
		return tx.Set(ref, d)
	})
	if err != nil {
		fail(c, fmt.Errorf("register device: %w", err))
		return
	}
	if moved > 0 {
		s.log.InfoContext(ctx, "device token moved", "requestId", requestID(c), "uid", p.UID,
			"deviceId", deviceID, "previousRegistrations", moved)
	}
	c.JSON(http.StatusOK, apiDevice{DeviceID: deviceID, Platform: d.Platform, Locale: d.Locale,
		AppVersion: d.AppVersion, UpdatedAt: d.UpdatedAt})
}

// isUserDevice reports whether ref is users/{uid}/devices/{id}, the only
// devices collection of the data model.
func isUserDevice(ref *firestore.DocumentRef) bool {
	owner := ref.Parent.Parent
	return owner != nil && owner.Parent != nil && owner.Parent.ID == model.UsersCollection && owner.Parent.Parent == nil
}

// deleteDevice is DELETE /v1/devices/{deviceId}: the caller's device stops
// receiving pushes (sign-out). Deleting an unknown device is not an error.
func (s *Server) deleteDevice(c *gin.Context) {
	p := principalOf(c)
	deviceID, err := pathID(c, "deviceId")
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := s.fs.Doc(model.DevicePath(p.UID, deviceID)).Delete(c.Request.Context()); err != nil {
		fail(c, fmt.Errorf("delete device: %w", err))
		return
	}
	c.Status(http.StatusNoContent)
}
