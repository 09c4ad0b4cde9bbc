                    -- The reference for the usage part of features/sql/snapshot.sql
                    -- (between its "usage rollups" markers): the same columns
                    -- computed from usage_daily alone, window by window, the
                    -- plain way. Volumes are summed as the same integer
                    -- millionths as the rollups, so that both are exact.
                    (
                        WITH
                            toDate(@as_of) AS t,
                            toRelativeDayNum(t) - toRelativeDayNum(day) AS age
                        SELECT
                            customer_id,
                            countIf(age > 90) AS u_active_old,
                            countIf(age > 30 AND age <= 90) AS u_active_prev,
                            countIf(age <= 30) AS u_active_30,
                            min(age) AS u_last_age
                        FROM usage_daily
                        WHERE day < t AND day >= t - 365
                          AND (voice_minutes > 0 OR data_mb > 0 OR sms > 0 OR calls > 0)
                        GROUP BY customer_id
                    ) USING customer_id
                )
                ANY LEFT JOIN
                (
                    WITH
                        toDate(@as_of) AS t,
                        toRelativeDayNum(t) - toRelativeDayNum(day) AS age,
                        toInt64(round(toFloat64(voice_minutes) * 1000000)) AS voice,
                        toInt64(round(toFloat64(data_mb) * 1000000)) AS data
                    SELECT
                        customer_id,
                        sumIf(voice, age > 30) AS v_voice_1,
                        sumIf(voice, age > 7 AND age <= 30) AS v_voice_2,
                        sumIf(voice, age <= 7) AS v_voice_3,
                        sumIf(data, age > 30) AS v_data_1,
                        sumIf(data, age > 7 AND age <= 30) AS v_data_2,
                        sumIf(data, age <= 7) AS v_data_3,
                        sumIf(toInt64(sms), age <= 30) AS v_sms_30,
                        sumIf(toInt64(calls), age <= 30) AS v_calls_30,
                        sum(toInt64(calls)) AS v_calls_90,
                        sumIf(toInt64(dropped_calls), age <= 30) AS v_dropped_30,
                        sum(toInt64(dropped_calls)) AS v_dropped_90,
                        sum(toInt64(round(toFloat64(intl_minutes) * 1000000))) AS v_intl_90,
                        sum(toInt64(round(toFloat64(roaming_minutes) * 1000000))) AS v_roaming_90
                    FROM usage_daily
                    WHERE day < t AND day >= t - 90
                    GROUP BY customer_id
                ) USING customer_id
