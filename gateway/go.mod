module github.com/telecomcrm/crm/gateway

go 1.26.8

replace (
	github.com/telecomcrm/crm/proto => ../proto
	github.com/telecomcrm/crm/services/platform => ../services/platform
)

require (
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.33.0
	github.com/telecomcrm/crm/proto v0.0.0-00010101000000-000000000000
	github.com/telecomcrm/crm/services/platform v0.0.0-00010101000000-000000000000
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/caarlos0/env/v11 v11.4.2 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261026165753-2ffab32bce7e // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261019180522-ce908d29299b // indirect
)
