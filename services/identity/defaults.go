package identity

import "github.com/telecomcrm/crm/services/platform/locale"

// The default data a new database is seeded with, in every language the
// deployment can be seeded in (CRM_LOCALE). A database keeps what it was
// seeded with: the seed runs once, inside its migration, and operators may
// rename anything afterwards.

// defaultPermissions are the product's permissions, in their order.
var defaultPermissions = []struct {
	name        string
	description locale.Text
}{
	{"customers.read", locale.Text{RU: "Видеть абонентов и их телефоны", EN: "See customers and their phones"}},
	{"customers.write", locale.Text{RU: "Регистрировать абонентов, менять их и их телефоны", EN: "Register customers and change them and their phones"}},
	{"contracts.read", locale.Text{RU: "Видеть договоры", EN: "See contracts"}},
	{"contracts.write", locale.Text{RU: "Открывать договоры и подключения", EN: "Open contracts and connections"}},
	{"tasks.read", locale.Text{RU: "Видеть задачи, их комментарии и историю", EN: "See tasks, their comments and history"}},
	{"tasks.create", locale.Text{RU: "Открывать сервисные задачи по договорам", EN: "Open service tasks on contracts"}},
	{"tasks.work", locale.Text{RU: "Брать, выполнять, возвращать и комментировать задачи своих групп", EN: "Take, complete, return and comment tasks of one's own groups"}},
	{"tasks.manage", locale.Text{RU: "Работать с любой задачей любой группы; узнавать о нарушениях SLA", EN: "Act on any task whatever its group; hear of SLA breaches"}},
	{"settings.read", locale.Text{RU: "Видеть маршруты, правила закрытия, тарифы, группы и роли", EN: "See routes, close rules, tariffs, groups and roles"}},
	{"settings.write", locale.Text{RU: "Менять маршруты, правила закрытия, тарифы и группы", EN: "Change routes, close rules, tariffs and groups"}},
	{"users.manage", locale.Text{RU: "Создавать и менять пользователей и их роли; читать журнал действий", EN: "Create and change users and their roles; read the audit log"}},
	{"integrations.manage", integrationsDescription},
	{"imports.run", importsDescription},
}

// integrationsDescription and importsDescription are the descriptions of
// the permissions migrations 0007 and 0008 add to databases seeded before
// them.
var (
	integrationsDescription = locale.Text{RU: "Подключать внешние системы: вебхуки и их журнал доставки", EN: "Connect other systems: webhooks and their delivery log"}
	importsDescription      = locale.Text{RU: "Загружать абонентов и договоры из файлов CSV", EN: "Bring customers and contracts in from CSV files"}
)

// defaultRoles are the product's roles: their descriptions and, by name,
// their permissions (nil: all of them; a name prefixed "-": all but it).
var defaultRoles = []struct {
	name        string
	description locale.Text
	permissions []string
}{
	{"admin", locale.Text{RU: "Всё, включая пользователей и роли", EN: "Everything, including users and roles"}, nil},
	{"supervisor", locale.Text{RU: "Всё, кроме пользователей: настройки, очереди, любые задачи", EN: "Everything but users: settings, queues, any task"}, []string{"-users.manage"}},
	{"operator", locale.Text{RU: "Фронт-офис: абоненты, договоры, открытие и работа с задачами", EN: "Front office: customers, contracts, opening and working tasks"},
		[]string{"customers.read", "customers.write", "contracts.read", "contracts.write", "tasks.read", "tasks.create", "tasks.work", "settings.read"}},
	{"engineer", locale.Text{RU: "Выполняет задачи своих групп", EN: "Works the tasks of their groups"},
		[]string{"customers.read", "contracts.read", "tasks.read", "tasks.work", "settings.read"}},
	{"viewer", locale.Text{RU: "Читает абонентов, договоры и задачи", EN: "Reads customers, contracts and tasks"},
		[]string{"customers.read", "contracts.read", "tasks.read", "settings.read"}},
}

// defaultGroups are the work groups, with FIXED ids: other services' default
// data (the processes of the task service's routes) refer to them, so they
// must never be renumbered.
var defaultGroups = []struct {
	id                int64
	name, description locale.Text
}{
	{1, locale.Text{RU: "Продажи", EN: "Sales"}, locale.Text{RU: "Фронт-офис: регистрирует абонентов, открывает договоры, проверяет новые подключения", EN: "Front office: registers customers, opens contracts, checks new connections"}},
	{2, locale.Text{RU: "Подключение", EN: "Provisioning"}, locale.Text{RU: "Проверяет техническую возможность и активирует услуги", EN: "Checks technical feasibility and activates services"}},
	{3, locale.Text{RU: "Монтажники", EN: "Installers"}, locale.Text{RU: "Устанавливает и ремонтирует оборудование по адресу абонента", EN: "Installs and repairs equipment at the customer's address"}},
	{4, locale.Text{RU: "Биллинг", EN: "Billing"}, locale.Text{RU: "Смена тарифа, приостановка и отключение", EN: "Tariff changes, suspensions and disconnections"}},
	{5, locale.Text{RU: "Поддержка", EN: "Support"}, locale.Text{RU: "Контрольные звонки и поддержка абонентов", EN: "Quality calls and customer support"}},
	{6, locale.Text{RU: "Руководители", EN: "Supervisors"}, locale.Text{RU: "Следит за очередями и нарушениями SLA", EN: "Watches queues and SLA breaches"}},
}

// supervisorsGroup is the group the first admin joins.
const supervisorsGroup = 6

// defaultAdminName is the first admin's display name.
var defaultAdminName = locale.Text{RU: "Администратор", EN: "Administrator"}
