// The column types of mysql-read's type test and the rows that exercise them, shared by the
// binlog reader's test (every type must come through the binary log byte for byte the same).

export interface Col {
  name: string
  ddl: string
  /** SQL giving the server's own text of the value (NULL stays NULL). */
  text?: (c: string) => string
  /** That text → the JSON our record must hold for it. */
  json: (text: string) => string
}

export const num = (s: string): string => s
export const str = (s: string): string => JSON.stringify(s)
export const quoted = (s: string): string => `"${s}"`
const cast = (c: string): string => `CAST(${c} AS CHAR)`
const fmt = (pattern: string) => (c: string): string => `DATE_FORMAT(${c}, '${pattern}')`

/**
 * The FLOATs of ROWS, by their exact value (the server's DOUBLE of them), and the shortest text
 * that reads back as the same float, worked out by hand: 3.14159 is the float 3.1415901184…,
 * whose 5-digit neighbour 3.1416 is another float; 123456.7 rounds to 123456.703125 and 123457
 * does not; 16777216 is 2^24, and 1.677722e7 is the float 16777220.
 */
export const FLOAT_SHORTEST: Record<string, string> = { '3.141590118408203': '3.14159', '16777216': '16777216', '123456.703125': '123456.7' }

export const COLS: Col[] = [
  { name: 'ti', ddl: 'TINYINT', text: cast, json: num },
  { name: 'tu', ddl: 'TINYINT UNSIGNED', text: cast, json: num },
  { name: 'b1', ddl: 'BOOLEAN', text: cast, json: num },
  { name: 'si', ddl: 'SMALLINT', text: cast, json: num },
  { name: 'mi', ddl: 'MEDIUMINT', text: cast, json: num },
  { name: 'i', ddl: 'INT', text: cast, json: num },
  { name: 'iu', ddl: 'INT UNSIGNED', text: cast, json: num },
  { name: 'bi', ddl: 'BIGINT', text: cast, json: num },
  { name: 'bu', ddl: 'BIGINT UNSIGNED', text: cast, json: num },
  { name: 'de', ddl: 'DECIMAL(40,10)', text: cast, json: num },
  { name: 'd2', ddl: 'DECIMAL(10,2)', text: cast, json: num },
  // A FLOAT's own text has 6 digits (16777216 reads 16777200): the server gives its exact value
  // as a DOUBLE, and the record holds the shortest text that is the same single-precision float.
  { name: 'fl', ddl: 'FLOAT', text: (c) => `CAST(${c} AS DOUBLE)`, json: (s) => FLOAT_SHORTEST[s] ?? `<no shortest text written out for the FLOAT ${s}>` },
  { name: 'du', ddl: 'DOUBLE', text: cast, json: num },
  { name: 'bt', ddl: 'BIT(1)', text: (c) => `CAST(${c} + 0 AS CHAR)`, json: num },
  { name: 'b64', ddl: 'BIT(64)', text: (c) => `CAST(${c} + 0 AS CHAR)`, json: num },
  { name: 'ch', ddl: 'CHAR(5)', json: str },
  { name: 'vc', ddl: 'VARCHAR(100)', json: str },
  { name: 'tx', ddl: 'TEXT', json: str },
  { name: 'l1', ddl: 'VARCHAR(20) CHARACTER SET latin1', json: str },
  { name: 'bn', ddl: 'BINARY(4)', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'vb', ddl: 'VARBINARY(300)', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'bl', ddl: 'BLOB', text: (c) => `REPLACE(TO_BASE64(${c}), '\\n', '')`, json: quoted },
  { name: 'en', ddl: "ENUM('a','b c','é')", text: cast, json: str },
  { name: 'st', ddl: "SET('x','y','z')", text: cast, json: str },
  { name: 'd', ddl: 'DATE', text: fmt('%Y-%m-%d'), json: quoted },
  { name: 'dt', ddl: 'DATETIME', text: fmt('%Y-%m-%dT%H:%i:%sZ'), json: quoted },
  { name: 'dt3', ddl: 'DATETIME(3)', text: (c) => `CONCAT(DATE_FORMAT(${c}, '%Y-%m-%dT%H:%i:%s.'), LEFT(DATE_FORMAT(${c}, '%f'), 3), 'Z')`, json: quoted },
  { name: 'dt6', ddl: 'DATETIME(6)', text: fmt('%Y-%m-%dT%H:%i:%s.%fZ'), json: quoted },
  { name: 'ts', ddl: 'TIMESTAMP NULL', text: fmt('%Y-%m-%dT%H:%i:%sZ'), json: quoted },
  { name: 'ts6', ddl: 'TIMESTAMP(6) NULL', text: fmt('%Y-%m-%dT%H:%i:%s.%fZ'), json: quoted },
  { name: 'tm', ddl: 'TIME', text: cast, json: quoted },
  { name: 'tm2', ddl: 'TIME(2)', text: cast, json: quoted },
  { name: 'yr', ddl: 'YEAR', text: cast, json: num },
  // JSON as stored, line breaks (whitespace between tokens) dropped.
  { name: 'js', ddl: 'JSON', text: cast, json: (s) => s.replace(/[\r\n]/g, '') }
]

export const ROWS = [
  `(1, -128, 255, 1, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    123456789012345678901234567890.0123456789, -12345678.90, 3.14159, 0.30000000000000004, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
    'ab', 'héllo "q" \\\\ tab\\t nl\\n 𝄞😀 ${'\u2028'} end', CONCAT('ctl', CHAR(1), CHAR(31), ' line1\\nline2'), 'café',
    X'00FF1000', X'DEADBEEF000A0D22', X'', 'é', 'x,z', '2024-02-29', '2024-01-02 03:04:05', '2024-01-02 03:04:05.120', '2024-01-02 03:04:05.123456',
    '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001', '-838:59:59', '12:34:56.78', 2024,
    '{"a": 1, "big": 12345678901234567890, "f": 1.10, "neg": -0, "e": 1e400, "s": "x\\\\ny \\\\"q\\\\" \\\\u00e9", "arr": [1, [2, {"b": null}]], "t": true}')`,
  '(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)',
  `(3, 0, 0, 0, 0, 0, 0, 0, 9007199254740993, 0, -0.0000000001, 0.00, 16777216, 1e300, b'0', b'0', '', '', '', '', X'00000000', X'', REPEAT(X'FF', 300),
    'a', '', '1000-01-01', '9999-12-31 23:59:59', '1000-01-01 00:00:00.000', '2024-06-30 23:59:59.999999', '1970-01-01 00:00:01', '2024-03-31 01:30:00.5', '00:00:00', '-00:00:00.01', 1901,
    '[\\n  1,\\n  2.50,\\n  "x"\\n]')`,
  `(4, 127, 1, 0, 32767, 8388607, 2147483647, 1, 9223372036854775807, 1, 99999999999999999999999999999.9999999999, 99999999.99, 123456.7, -1.7976931348623157e308, b'1', b'1000000000000000000000000000000000000000000000000000000000000000',
    '12345', REPEAT('ü', 100), REPEAT('long text ', 500), 'ÿ', X'7F000001', X'E282AC', X'C328', 'b c', 'x,y,z', '9999-12-31', '1970-01-01 00:00:00', '2000-02-29 12:00:00.001', '1999-12-31 23:59:59.999999',
    '2000-01-01 00:00:00', NULL, '838:59:59', '-12:00:00.99', 2155, '"a plain string"')`
]

