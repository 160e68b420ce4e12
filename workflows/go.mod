module github.com/telecomcrm/crm/workflows

go 1.26.8

replace (
	github.com/telecomcrm/crm/proto => ../proto
	github.com/telecomcrm/crm/services/platform => ../services/platform
)
