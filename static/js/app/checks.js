// The field app's own answer checks: the server's checks (check_formdata in
// village_survey/surveys/forms.py) run on the phone, from the same data dictionary
// (survey_fields.as_data(), embedded in the survey page) and with the same translated messages.
// Answers go in as the form's text, as the server's form receives them; out come the typed
// answers, the errors and the warnings by answer key, as the server gives them.
// tests/browser/test_phone_checks.py runs the same answers through both and compares.
//
// The server parses with Python (int(), Decimal(), strptime) and WTForms; the parsing below copies
// their rules (whitespace as str.isspace(), any Unicode decimal digit, underscores, "NaN"), so an
// answer the phone accepts is never refused after sync, and the reverse.

// str.isspace() in Python: what str.strip(), int() and Decimal() take for whitespace.
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const ASCII_SPACE = "[ \\t\\n\\r\\v\\f]*"; // what int() skips once other spaces are made ASCII
const DECIMAL_DIGIT = /^\p{Nd}$/u;
// Python's int() refuses text of more digits than this (sys.get_int_max_str_digits()).
const INT_MAX_STR_DIGITS = 4300;
// The form's text filters: no control characters, no lone surrogates (see PlainText in forms.py).
const UNSTORABLE = { single: /[\x00-\x1f\x7f\ud800-\udfff]/u, multi: /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]/u };

const isSpace = (ch) => PY_SPACE.has(ch.codePointAt(0));

// Python's str.strip(), by code points.
export function pyStrip(text) {
  const chars = [...text];
  let start = 0;
  let end = chars.length;
  while (end > 0 && isSpace(chars[end - 1])) end -= 1;
  while (start < end && isSpace(chars[start])) start += 1;
  return chars.slice(start, end).join("");
}

// The value of a Unicode decimal digit (-1 if it is none): Unicode encodes every set of decimal
// digits as ten code points in a row, 0 to 9, so the count of digits before it says its value.
function digitValue(ch) {
  if (!DECIMAL_DIGIT.test(ch)) return -1;
  let cp = ch.codePointAt(0);
  let before = 0;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(cp - 1))) {
    before += 1;
    cp -= 1;
  }
  return before % 10;
}

// Python's int(text), or null: non-ASCII spaces and digits are made ASCII first, then the sign,
// digits with single underscores between them, and spaces around.
function parseInt10(text) {
  let ascii = "";
  for (const ch of text) {
    if (ch.codePointAt(0) < 127) ascii += ch;
    else if (isSpace(ch)) ascii += " ";
    else {
      const digit = digitValue(ch);
      if (digit < 0) return null;
      ascii += String(digit);
    }
  }
  const match = new RegExp(`^${ASCII_SPACE}([+-]?)([0-9]+(?:_[0-9]+)*)${ASCII_SPACE}$`).exec(ascii);
  if (!match) return null;
  const digits = match[2].replaceAll("_", "");
  if (digits.length > INT_MAX_STR_DIGITS) return null;
  return BigInt(match[1] + digits);
}

// Python's Decimal(text), or null: spaces stripped at the ends, underscores dropped anywhere,
// non-ASCII digits made ASCII, then mpdecimal's syntax (Infinity and NaN included, any case).
function parseDecimal(text) {
  let ascii = "";
  for (const ch of pyStrip(text)) {
    if (ch === "_") continue;
    const cp = ch.codePointAt(0);
    if (cp > 0 && cp <= 127) ascii += ch;
    else if (isSpace(ch)) ascii += " ";
    else {
      const digit = digitValue(ch);
      if (digit < 0) return null;
      ascii += String(digit);
    }
  }
  if (/^[+-]?(inf|infinity|s?nan[0-9]*)$/i.test(ascii)) return { finite: false };
  const match = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(ascii);
  if (!match || (match[2] === "" && !match[3])) return null;
  return { finite: true, negative: match[1] === "-", whole: match[2], fraction: match[3] || "",
           exponent: match[4] || "0", number: Number(ascii) };
}

// A parsed decimal against a whole number, exactly (a JavaScript number rounds): -1, 0 or 1.
function compareDecimal(decimal, bound) {
  if (!Number.isInteger(bound)) return Math.sign(decimal.number - bound);
  const digits = (decimal.whole + decimal.fraction).replace(/^0+/, "");
  const limit = BigInt(bound);
  if (digits === "") return limit > 0n ? -1 : limit < 0n ? 1 : 0; // zero, whatever its sign
  if (decimal.negative && limit >= 0n) return -1;
  if (!decimal.negative && limit <= 0n) return 1;
  // Same sign: compare the sizes, digits × 10^exponent with |bound|.
  const exponent = BigInt(decimal.exponent) - BigInt(decimal.fraction.length);
  const size = limit < 0n ? -limit : limit;
  const wholeDigits = BigInt(digits.length) + exponent;
  const sizeDigits = BigInt(size.toString().length);
  let order;
  if (wholeDigits !== sizeDigits) order = wholeDigits > sizeDigits ? 1 : -1;
  else {
    // Equal numbers of whole digits: the exponent is small now.
    const [left, right] = exponent >= 0n ? [BigInt(digits) * 10n ** exponent, size]
      : [BigInt(digits), size * 10n ** -exponent];
    order = left > right ? 1 : left < right ? -1 : 0;
  }
  return decimal.negative ? -order : order;
}

const compareInt = (value, bound) => {
  if (!Number.isInteger(bound)) return Math.sign(Number(value) - bound);
  const limit = BigInt(bound);
  return value > limit ? 1 : value < limit ? -1 : 0;
};

// strptime(text, "%Y-%m-%d") as Python does it (a four-digit year, month and day of one or two
// digits, a day may start with a space; \d is any Unicode decimal digit), as "YYYY-MM-DD" or null.
const DATE = /^(\p{Nd}{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\p{Nd}|0[1-9]|[1-9]| [1-9])/u;

function digitsValue(text) {
  let value = 0;
  for (const ch of text.trim()) value = value * 10 + digitValue(ch);
  return value;
}

function parseDate(text) {
  const match = DATE.exec(text);
  if (!match || match[0].length !== text.length) return null;
  const [year, month, day] = match.slice(1).map(digitsValue);
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate(); // 2000 is a leap year
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 1 || day > daysInMonth || (month === 2 && day === 29 && !leap)) return null;
  const pad = (n, size) => String(n).padStart(size, "0");
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

// The phone's date today, as "YYYY-MM-DD".
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

// A checker for one data dictionary, in one language. `spec` is survey_fields.as_data(),
// `messages` forms.phone_messages(), `locale` the page's language (numbers in messages are
// written as Babel writes them on the server: grouped thousands, up to three decimals).
export function createChecker(spec, messages, locale) {
  const fields = Object.fromEntries(spec.fields.map((field) => [field.key, field]));
  const keys = spec.fields.map((field) => field.key); // the form's order
  const numbers = new Intl.NumberFormat(locale || undefined, { maximumFractionDigits: 3 });
  const fmt = (value) => (typeof value === "number" ? numbers.format(value) : String(value));

  function resolve(bound, today, surveyYear) {
    if (bound === null || bound === undefined) return null;
    if (typeof bound !== "object") return bound;
    const year = surveyYear ?? Number(today.slice(0, 4));
    return { today, this_year: Number(today.slice(0, 4)), survey_year_start: `${String(year).padStart(4, "0")}-01-01`,
             survey_year_end: `${String(year).padStart(4, "0")}-12-31` }[bound.bound];
  }

  const answered = (value) => value !== null && value !== undefined && value !== "";

  function isRequired(key, answers) {
    const field = fields[key];
    if (field.required === "yes") return true;
    if (field.required === "when") return field.when[1].includes(answers[field.when[0]] ?? null);
    if (field.required === "one_of") return !field.group.some((k) => answered(answers[k]));
    return false;
  }

  // Keys that must be answered before submitting but are not (typed answers).
  function missingRequired(answers) {
    return keys.filter((key) => isRequired(key, answers) && !answered(answers[key]));
  }

  function crossCheckFails(check, answers) {
    const values = check.keys.map((k) => answers[k] ?? null);
    const other = check.other ? answers[check.other] ?? null : null;
    const [value] = values;
    switch (check.kind) {
      case "differs_from":
        return value !== null && !check.exempt.includes(value) && value === other;
      case "at_most_key":
        return value !== null && other !== null && value > other;
      case "sum_at_least":
        if (values.some((v) => v === null)) return false; // a missing count is reported as missing
        return values.reduce((a, b) => a + b, 0) < check.value;
      case "greater_than_when":
        return other === true && value !== null && value <= check.value;
      case "zero_unless":
        return Boolean(value) && !check.exempt.includes(other);
      default:
        throw new Error(`unknown cross-check kind ${check.kind}`);
    }
  }

  // One answer as the server's form field takes it: {data} typed, or {errors}; data undefined
  // when the answer is empty. `stop` mirrors WTForms' StopValidation (no further checks).
  function checkField(key, raw, today) {
    const field = fields[key];
    const errors = [];
    if (raw === undefined || raw === null) return { errors };
    raw = String(raw);
    // Optional(): an empty or blank answer is no answer, whatever the type says; a blank
    // choice is still kept as the server keeps it (its form field's data).
    if (pyStrip(raw) === "") {
      if (field.type === "bool" || field.type === "code") return { errors, data: raw, blank: true };
      return { errors };
    }
    const [low, high] = [resolve(field.min, today), resolve(field.max, today)];
    const range = (order) => {
      if ((low !== null && order(low) < 0) || (high !== null && order(high) > 0)) {
        errors.push(high === null ? fill(messages.at_least, { min: fmt(low) })
          : fill(messages.between, { min: fmt(low), max: fmt(high) }));
      }
    };
    switch (field.type) {
      case "text": {
        const data = pyStrip(raw);
        if (UNSTORABLE[field.multiline ? "multi" : "single"].test(data)) {
          return { errors: [messages.unstorable_text] };
        }
        if ([...data].length > field.max_length) errors.push(messages.too_long[String(field.max_length)]);
        if (field.characters) {
          // re.match("^[...]*$"): "$" also matches before a final line break
          const body = data.endsWith("\n") ? data.slice(0, -1) : data;
          if (![...body].every((ch) => field.characters.includes(ch))) errors.push(messages.only_listed_characters);
        }
        return { errors, data };
      }
      case "int":
      case "year": {
        const value = parseInt10(raw);
        if (value === null) return { errors: [messages.not_integer] };
        range((bound) => compareInt(value, bound));
        return { errors, data: Number(value), number: Number(value) };
      }
      case "decimal": {
        const value = parseDecimal(raw);
        if (value === null) return { errors: [messages.not_decimal] };
        if (!value.finite) return { errors: [messages.not_finite] };
        range((bound) => compareDecimal(value, bound));
        // The answer as JSON: float(Decimal), whole numbers below 10^15 as integers (0 for -0).
        const number = value.number;
        const data = Number.isInteger(number) && Math.abs(number) < 1e15 ? number + 0 : number;
        return { errors, data, number };
      }
      case "date": {
        const value = parseDate(raw);
        if (value === null) return { errors: [messages.not_date] };
        if (high !== null && value > high) errors.push(messages.future_date);
        return { errors, data: value, date: value };
      }
      case "bool":
        if (raw !== "true" && raw !== "false") return { errors: [messages.yes_or_no] };
        return { errors, data: raw };
      default:
        if (!field.codes.includes(raw)) return { errors: [messages.not_a_choice] };
        return { errors, data: raw };
    }
  }

  function usualWarning(key, result, today, surveyYear) {
    const field = fields[key];
    if (field.usual_min === undefined && field.usual_max === undefined) return null;
    const low = resolve(field.usual_min, today, surveyYear);
    const high = resolve(field.usual_max, today, surveyYear);
    const value = result.date ?? result.number;
    if (!((low !== null && value < low) || (high !== null && value > high))) return null;
    if (low === null) return fill(messages.usually_at_most, { max: fmt(high) });
    if (result.date !== undefined) return messages.unusual_date;
    return fill(messages.usually_between, { min: fmt(low), max: fmt(high) });
  }

  // check_formdata(formdata, status, year, today): `formdata` maps answer keys to the form's
  // text; `today` is "YYYY-MM-DD" (the phone's date when not given). Returns {answers, errors,
  // warnings} as the server's Checked, plus `data`: every answer that could be read, typed, even
  // when out of range (to keep on the phone what the surveyor typed).
  function check(formdata, { status = "draft", year = null, today = localToday() } = {}) {
    const result = { answers: {}, errors: {}, warnings: {}, data: {} };
    const add = (kind, key, message) => { (result[kind][key] ||= []).push(message); };
    const numeric = [];
    for (const key of keys) {
      const outcome = checkField(key, formdata[key], today);
      if (outcome.data !== undefined && !outcome.blank) result.data[key] = typedData(key, outcome.data);
      if (outcome.errors.length) {
        for (const message of outcome.errors) add("errors", key, message);
        continue;
      }
      if (outcome.data === undefined || outcome.data === "") continue;
      result.answers[key] = typedData(key, outcome.data);
      if (outcome.number !== undefined || outcome.date !== undefined) numeric.push([key, outcome]);
    }
    for (const [key, outcome] of numeric) {
      const warning = usualWarning(key, outcome, today, year);
      if (warning) add("warnings", key, warning);
    }
    if (Object.keys(result.errors).length) return result;
    // Contradictions are refused even in a draft; they only arise once both answers are there.
    const failed = spec.cross_checks.filter((c) => crossCheckFails(c, result.answers));
    for (const c of [...failed.filter((f) => f.severity === "error"), ...failed.filter((f) => f.severity !== "error")]) {
      add(c.severity === "error" ? "errors" : "warnings", c.keys[0], messages.cross[c.code]);
    }
    if (status === "submitted") {
      for (const key of missingRequired(result.answers)) add("errors", key, messages.required);
    }
    return result;
  }

  function typedData(key, data) {
    return fields[key].type === "bool" ? data === "true" : data;
  }

  return { check, missingRequired, isRequired, fields, keys };
}
