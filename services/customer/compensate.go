package customer

import (
	"context"

	"gorm.io/gorm"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// DeleteCustomer undoes a customer the new-connection wizard registered
// when a later step of it failed. Deleting an unknown customer is done.
func (s *Server) DeleteCustomer(ctx context.Context, req *customerv1.DeleteCustomerRequest) (*customerv1.DeleteCustomerResponse, error) {
	if req.GetId() <= 0 {
		return nil, fault.Field("id", "say which customer to delete")
	}
	err := s.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("customer_id = ?", req.GetId()).Delete(&phoneRow{}).Error; err != nil {
			return err
		}
		return tx.Delete(&customerRow{}, req.GetId()).Error
	})
	if err != nil {
		return nil, err
	}
	return &customerv1.DeleteCustomerResponse{}, nil
}
