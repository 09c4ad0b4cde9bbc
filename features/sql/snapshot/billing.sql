-- Snapshot side "billing": invoices issued and payments made in the
-- @history_days (730) before the as-of date, one row per customer with
-- either, and the status of every invoice already due.
--
-- The look-back keeps a snapshot's cost flat however many years of
-- billing an operator loads: the balance, the days past due and the
-- latest invoice and payment are those of the last two years. A balance
-- counts the payments of the window's invoices only (a payment names its
-- invoice: docs/data-contract.md), so that a payment made inside the
-- window for an invoice issued before it is not taken for a credit.
--
-- One GROUP BY over the invoices and the payments together (kind 0 and 1),
-- with no join: a customer with payments and no invoice (or the other way
-- round) reads as a join's defaults would (0, 0000-00-00). Each due
-- invoice's payments are then matched inside the customer's arrays, by a
-- 64-bit hash of the invoice id (two invoice ids of one customer that
-- share a hash would merge their payments; with 64 bits that does not
-- happen), in time linear in the entries:
--
--   1. the due invoices are numbered 1..n in order (invoice ids are unique:
--      docs/data-contract.md), the window's invoices not yet due n+1..m,
--      and each payment takes its invoice's number, or a number above m
--      (an invoice issued before the window), by arrayEnumerateDense over
--      the due invoices' hashes, the others' and the payments';
--   2. one sort key per entry, number << 17 | kind << 16 | day number: a
--      marker (kind 0, day 0) opens each number 0..n+1, and its payments
--      (kind 1) follow it by day (a payment's key is unique: payments are
--      keyed by invoice and day); the payments numbered above n+1 sort
--      after the last marker and belong to no due invoice;
--   3. the payments' amounts, sorted by those keys, summed cumulatively:
--      an invoice's payments are the difference of the sums at its marker
--      and the next, and its last payment is the entry before the next
--      marker.
--
-- ClickHouse 18.16 matched them before by comparing every due invoice with
-- every payment of its customer (arrays of tuples replicated per invoice,
-- about 150 pairs per customer a year), and a join of the two sides: 30-38 s
-- of server CPU and 4 GiB at a million customers, against 8-11 s with the
-- same values (docs/scaling.md).
WITH
    toDate(@as_of) AS t,
    length(b_due_h) AS n,
    n + length(b_open_h) AS m,
    arraySlice(arrayEnumerateDense(arrayConcat(b_due_h, b_open_h, y_h)), m + 1) AS pay_no,
    arrayConcat(arrayMap(i -> bitShiftLeft(toUInt64(i), 17), range(n + 2)),
        arrayMap((i, d) -> bitShiftLeft(toUInt64(i), 17) + 65536 + toUInt64(toRelativeDayNum(d)), pay_no, y_d)) AS keys,
    arraySort(keys) AS sorted,
    arrayCumSum(arraySort((a, x) -> x, arrayConcat(arrayResize([toFloat64(0)], n + 2, toFloat64(0)), y_a), keys)) AS cum,
    -- paid before t, per due invoice 1..n: the sums at consecutive markers
    arraySlice(arrayDifference(arrayFilter((c, x) -> bitAnd(x, 131071) = 0, cum, sorted)), 3) AS paid,
    -- the day number of the last payment before t per due invoice (0: none)
    arrayMap(x -> if(bitAnd(x, 65536) != 0, bitAnd(x, 65535), 0),
        arraySlice(arrayFilter((x, next) -> bitAnd(next, 131071) = 0, sorted, arrayPushBack(arrayPopFront(sorted), toUInt64(1))), 2)) AS last_paid
SELECT
    k,
    b_invoices, b_revenue_365, b_revenue_90, b_invoices_90, b_amount_180, b_invoices_180,
    b_last_amount, b_prev_n, b_prev_sum,
    y_payments, y_last_paid, y_payments_365, y_paid_365,
    round(b_invoiced - arraySum(arrayFilter((a, i) -> i <= m, y_a, pay_no)), 2) AS b_outstanding,
    arrayCount((d, a, p, l) -> d >= t - 365 AND p >= a - 0.005 AND l > toRelativeDayNum(d), b_due_d, b_due_a, paid, last_paid) AS b_late_12m,
    arrayCount((d, a, p) -> d >= t - 365 AND p < a - 0.005, b_due_d, b_due_a, paid) AS b_missed_12m,
    arrayReduce('max', arrayMap((d, a, p) -> if(p < a - 0.005, toRelativeDayNum(t) - toRelativeDayNum(d), 0), b_due_d, b_due_a, paid)) AS b_days_past_due
FROM
(
    WITH
        toDate(@as_of) AS t,
        maxIf(day, kind = 0) AS b_last,
        groupArrayIf(day, kind = 0) AS b_days,
        kind = 0 AND due < t AS is_due
    SELECT
        k,
        countIf(kind = 0) AS b_invoices,
        sumIf(amount, kind = 0) AS b_invoiced,
        sumIf(amount, kind = 0 AND day >= t - 365) AS b_revenue_365,
        sumIf(amount, kind = 0 AND day >= t - 90) AS b_revenue_90,
        countIf(kind = 0 AND day >= t - 90) AS b_invoices_90,
        sumIf(amount, kind = 0 AND day >= t - 180) AS b_amount_180,
        countIf(kind = 0 AND day >= t - 180) AS b_invoices_180,
        -- the latest invoice; of one day's, the greatest id
        argMaxIf(amount, (day, id_text, amount), kind = 0) AS b_last_amount,
        -- the invoices of the 90 days before the latest one
        arrayCount(d -> d >= b_last - 90 AND d < b_last, b_days) AS b_prev_n,
        arraySum(arrayFilter((a, d) -> d >= b_last - 90 AND d < b_last, groupArrayIf(amount, kind = 0), b_days)) AS b_prev_sum,
        groupArrayIf(h, is_due) AS b_due_h,
        groupArrayIf(due, is_due) AS b_due_d,
        groupArrayIf(amount, is_due) AS b_due_a,
        groupArrayIf(h, kind = 0 AND NOT is_due) AS b_open_h,
        countIf(kind = 1) AS y_payments,
        maxIf(day, kind = 1) AS y_last_paid,
        countIf(kind = 1 AND day >= t - 365) AS y_payments_365,
        sumIf(amount, kind = 1 AND day >= t - 365) AS y_paid_365,
        groupArrayIf(h, kind = 1) AS y_h,
        groupArrayIf(day, kind = 1) AS y_d,
        groupArrayIf(amount, kind = 1) AS y_a
    FROM
    (
        -- id_text, not invoice_id: an alias invoice_id = '' in the second
        -- SELECT would be what its cityHash64(invoice_id) hashes
        SELECT cityHash64(customer_id) AS k, toUInt8(0) AS kind, cityHash64(invoice_id) AS h, invoice_id AS id_text,
            issued_at AS day, due_date AS due, amount
        FROM invoices
        WHERE issued_at < toDate(@as_of) AND issued_at >= toDate(@as_of) - @history_days
        UNION ALL
        SELECT cityHash64(customer_id) AS k, toUInt8(1) AS kind, cityHash64(invoice_id) AS h, '' AS id_text,
            paid_at AS day, toDate(0) AS due, amount
        FROM payments
        WHERE paid_at < toDate(@as_of) AND paid_at >= toDate(@as_of) - @history_days
    )
    GROUP BY k
)
