package contract

import (
	"context"

	contractv1 "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// The statuses a contract moves between. The calls in this file are
// internal: the workflows and the other services make them, never the console.
const (
	pending    = contractv1.ContractStatus_CONTRACT_STATUS_PENDING
	active     = contractv1.ContractStatus_CONTRACT_STATUS_ACTIVE
	cancelled  = contractv1.ContractStatus_CONTRACT_STATUS_CANCELLED
	suspended  = contractv1.ContractStatus_CONTRACT_STATUS_SUSPENDED
	terminated = contractv1.ContractStatus_CONTRACT_STATUS_TERMINATED
)

func (s *Server) ActivateContract(ctx context.Context, req *contractv1.ActivateContractRequest) (*contractv1.ActivateContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), active, pending)
	if err != nil {
		return nil, err
	}
	return &contractv1.ActivateContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) CancelContract(ctx context.Context, req *contractv1.CancelContractRequest) (*contractv1.CancelContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), cancelled, pending)
	if err != nil {
		return nil, err
	}
	return &contractv1.CancelContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) SuspendContract(ctx context.Context, req *contractv1.SuspendContractRequest) (*contractv1.SuspendContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), suspended, active)
	if err != nil {
		return nil, err
	}
	return &contractv1.SuspendContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) ResumeContract(ctx context.Context, req *contractv1.ResumeContractRequest) (*contractv1.ResumeContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), active, suspended)
	if err != nil {
		return nil, err
	}
	return &contractv1.ResumeContractResponse{Contract: contractProto(c)}, nil
}

func (s *Server) TerminateContract(ctx context.Context, req *contractv1.TerminateContractRequest) (*contractv1.TerminateContractResponse, error) {
	c, err := s.store.transition(ctx, req.GetId(), terminated, active, suspended)
	if err != nil {
		return nil, err
	}
	return &contractv1.TerminateContractResponse{Contract: contractProto(c)}, nil
}

// ChangeTariff moves an active or suspended contract to another tariff
// that is still offered. A retry after success finds the contract on the
// tariff already and answers it as done.
func (s *Server) ChangeTariff(ctx context.Context, req *contractv1.ChangeTariffRequest) (*contractv1.ChangeTariffResponse, error) {
	tariff, err := s.store.tariff(ctx, req.GetTariffId())
	if fault.Is(err, fault.NotFound) {
		return nil, fault.Field("tariffId", "tariff %d does not exist", req.GetTariffId())
	}
	if err != nil {
		return nil, err
	}
	c, err := s.store.changeTariff(ctx, req.GetId(), tariff)
	if err != nil {
		return nil, err
	}
	return &contractv1.ChangeTariffResponse{Contract: contractProto(c)}, nil
}

func (s *Server) SetConnectionTask(ctx context.Context, req *contractv1.SetConnectionTaskRequest) (*contractv1.SetConnectionTaskResponse, error) {
	if req.GetTaskId() <= 0 {
		return nil, fault.Field("taskId", "give the connection task's id")
	}
	c, err := s.store.setConnectionTask(ctx, req.GetContractId(), req.GetTaskId())
	if err != nil {
		return nil, err
	}
	return &contractv1.SetConnectionTaskResponse{Contract: contractProto(c)}, nil
}

func (s *Server) DeleteContract(ctx context.Context, req *contractv1.DeleteContractRequest) (*contractv1.DeleteContractResponse, error) {
	if err := s.store.deletePending(ctx, req.GetId()); err != nil {
		return nil, err
	}
	return &contractv1.DeleteContractResponse{}, nil
}
