/**
 * The pre-tokenizer and special tokens of DeepSeek-V2 / V2-Lite's tokenizer.json, written with
 * escapes because several code points have look-alikes (U+1F7D vs U+03CE, U+2126 vs U+03A9,
 * U+212A vs "K") that copy-paste or NFC would silently swap.
 */
const LETTERS =
  "A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF" +
  "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5" +
  "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA" +
  "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45" +
  "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE" +
  "\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC" +
  "\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134" +
  "\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE" +
  "\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF" +
  "\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\u{10400}-\u{1044F}\u{104B0}-\u{104D3}" +
  "\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}";

function isolated(regex: string) {
  return { type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false } as const;
}

export const DEEPSEEK_V2_PRE_TOKENIZER = {
  type: "Sequence",
  pretokenizers: [
    isolated("[\r\n]"),
    isolated(`\\s?[${LETTERS}]+`),
    isolated("\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+"),
    isolated("\\s+$"),
    isolated("[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+"),
    { type: "Digits", individual_digits: true },
    { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
  ],
} as const;

export const DEEPSEEK_BOS = "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>";
export const DEEPSEEK_EOS = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
