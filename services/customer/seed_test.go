package customer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/telecomcrm/crm/services/platform/textsearch"
)

// population is a synthetic customer base for PostgreSQL-only tests and
// benchmarks: customer i (0-based) has id i+1, a mobile and a landline
// number, and a Russian person's or a company's name. Everything is a
// function of i, so a test can pick inputs that exist without reading.
type population struct {
	Customers int
}

var (
	surnames    = strings.Fields("Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Федоров Морозов Волков Алексеев Лебедев Семенов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин Захаров Зайцев Соловьев Борисов Яковлев Григорьев Романов Воробьев Сергеев Кузьмин Фролов Александров Дмитриев Королев Гусев Киселев Ильин Максимов Поляков Сорокин Виноградов Ковалев Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышев Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарев Голубев Кудрявцев Прохоров Наумов Потапов Журавлев Овчинников Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачев Котов Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Еремин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронов Аксенов Софронов Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов Плотников Демин Хохлов Фадеев Молчанов Игнатов Литвинов Ершов Ушаков Дементьев Рябов Мухин Калашников Леонтьев Лобанов Кузин Корнилов Евдокимов Бородин Платонов Некрасов Балашов Бобров Жданов Блинов Игнатьев Коротков Муравьев Крюков Беляков Богомолов Дроздов Лавров Зуев Петухов Ларин Никулин Серов Терентьев Зотов Устинов Фокин Самойлов Константинов Сахаров Шишкин Самсонов Черкасов Чистяков Носов Спиридонов Карасев Авдеев Воронцов Зверев Владимиров Селезнев Нечаев Кудрявцев Седов Фирсов Андрианов Панин Головин Терехов Ульянов Шестаков Агеев Никонов Селиванов Баженов Гордеев Кожевников Пахомов Зимин Костин Широков Филимонов Ларионов Овсянников Сазонов Суворов Нефедов Корнеев Трофимов Мишин Сорокин")
	maleNames   = strings.Fields("Александр Дмитрий Максим Сергей Андрей Алексей Артём Илья Кирилл Михаил Никита Матвей Роман Егор Арсений Иван Денис Евгений Даниил Тимофей Владислав Игорь Владимир Павел Руслан Марк Константин Тимур Олег Ярослав Антон Николай Глеб Данил Савелий Вадим Степан Юрий Богдан Артур Семён Макар Лев Виктор Елисей Виталий Вячеслав Захар Мирон Дамир Георгий Давид Платон Анатолий Григорий Демид Данила Станислав Василий Федор Родион Леонид Одиссей Валерий Святослав Борис Эдуард")
	femaleNames = strings.Fields("Анастасия Мария Анна Виктория Екатерина Наталья Марина Полина София Дарья Алиса Ксения Александра Елена Ирина Ольга Татьяна Юлия Светлана Валерия Вероника Алина Арина Варвара Кристина Маргарита Елизавета Милана Ульяна Диана Евгения Василиса Людмила Галина Надежда Любовь Вера Зоя Лидия Нина")
	patronymics = strings.Fields("Александров Дмитриев Сергеев Андреев Алексеев Иванов Михайлов Николаев Владимиров Петров Викторов Юрьев Евгеньев Олегов Игорев Васильев Павлов Анатольев Геннадьев Борисов Валерьев Григорьев Константинов Леонидов Романов Степанов Федоров Львов")
	firmWords   = strings.Fields("Альфа Вектор Гранит Север Восток Техно Строй Инвест Сервис Логистик Ресурс Капитал Энерго Трейд Медиа Проект Систем Групп Сфера Орбита Меридиан Горизонт Престиж Регион Союз Эталон Атлант Феникс Байкал Урал Волга Нева Сигма Омега Дельта Квант Пульс Спектр Импульс Партнер")
)

// Multipliers coprime to 10 make i → number a bijection on each block.
const (
	mobileMul   = 48271
	mobileAdd   = 12345
	landlineMul = 7919
	landlineAdd = 777
)

// Mobile is customer i's first number: "+79" and nine digits.
func (p population) Mobile(i int) string {
	return fmt.Sprintf("+79%09d", (int64(i)*mobileMul+mobileAdd)%1_000_000_000)
}

// Landline is customer i's second number: "+7495" and seven digits.
func (p population) Landline(i int) string {
	return fmt.Sprintf("+7495%07d", (int64(i)*landlineMul+landlineAdd)%10_000_000)
}

// Company tells whether customer i is a company (one in ten).
func (p population) Company(i int) bool { return i%10 == 9 }

// Name is customer i's name: "Surname Name Patronymic" or a company's.
func (p population) Name(i int) string {
	h := uint64(i)*0x9E3779B97F4A7C15 + 1
	pick := func(list []string) string {
		h ^= h >> 29
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 32
		return list[h%uint64(len(list))]
	}
	if p.Company(i) {
		return fmt.Sprintf("ООО «%s%s %s»", pick(firmWords), strings.ToLower(pick(firmWords)), pick(firmWords))
	}
	if i%2 == 0 {
		return pick(surnames) + " " + pick(maleNames) + " " + pick(patronymics) + "ич"
	}
	return pick(surnames) + "а " + pick(femaleNames) + " " + pick(patronymics) + "на"
}

// Contracts is how many contracts customer i holds: one, and three for
// every tenth customer.
func (p population) Contracts(i int) int {
	if i%10 == 3 {
		return 3
	}
	return 1
}

// seed writes the population into the customer service's tables (and the
// contract service's, when withContracts) through COPY, after the
// migrations made them, then brings the sequences and statistics up to
// date. url is the database the services were opened on.
func (p population) seed(tb testing.TB, url string, withContracts bool) {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	start := time.Now()
	now := time.Now().UTC().UnixMicro()
	copyRows := func(schema, table string, cols []string, n int, row func(k int) []any) {
		k := 0
		_, err := conn.CopyFrom(ctx, pgx.Identifier{schema, table}, cols, pgx.CopyFromFunc(func() ([]any, error) {
			if k == n {
				return nil, nil
			}
			k++
			return row(k - 1), nil
		}))
		if err != nil {
			tb.Fatalf("copying %s.%s: %v", schema, table, err)
		}
	}
	copyRows("customer", "customers", []string{"id", "kind", "name", "name_lower", "email", "address", "version", "created_at", "updated_at"}, p.Customers, func(i int) []any {
		kind := int32(1)
		if p.Company(i) {
			kind = 2
		}
		name := p.Name(i)
		return []any{int64(i + 1), kind, name, textsearch.Fold(name), "", "", int64(1), now, now}
	})
	copyRows("customer", "phones", []string{"id", "customer_id", "number", "label"}, 2*p.Customers, func(k int) []any {
		i := k / 2
		if k%2 == 0 {
			return []any{int64(k + 1), int64(i + 1), p.Mobile(i), "mobile"}
		}
		return []any{int64(k + 1), int64(i + 1), p.Landline(i), "home"}
	})
	tables := []string{"customer.customers", "customer.phones"}
	if withContracts {
		var owners []int64
		for i := range p.Customers {
			for range p.Contracts(i) {
				owners = append(owners, int64(i+1))
			}
		}
		copyRows("contract", "contracts", []string{"id", "number", "customer_id", "tariff_id", "address", "status", "connection_task_id", "version", "created_at", "updated_at", "activated_at"}, len(owners), func(k int) []any {
			id := int64(k + 1)
			return []any{id, fmt.Sprintf("C-%06d", id), owners[k], int64(1), "Москва, ул. Тверская, д. 1", int32(2), int64(0), int64(1), now, now, now}
		})
		tables = append(tables, "contract.contracts")
	}
	for _, t := range tables {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, t, t)); err != nil {
			tb.Fatalf("moving the sequence of %s: %v", t, err)
		}
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE "+t); err != nil {
			tb.Fatalf("analysing %s: %v", t, err)
		}
	}
	tb.Logf("seeded %d customers, %d phones in %s", p.Customers, 2*p.Customers, time.Since(start).Round(time.Second))
}
