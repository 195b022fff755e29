import Foundation
import Testing
@testable import LoopWatchdog

@Suite("JSONWriter")
struct JSONWriterTests {
    private func quoted(_ text: String) -> String {
        var output = ""
        JSONWriter.appendQuoted(text, to: &output)
        return output
    }

    @Test func commasAndColonsInNestedContainers() {
        var json = JSONWriter()
        json.beginObject()
        json.key("a")
        json.integer(1)
        json.key("b")
        json.beginArray()
        json.beginObject()
        json.endObject()
        json.integer(-2)
        json.string(nil as String?)
        json.beginArray()
        json.endArray()
        json.bool(true)
        json.endArray()
        json.key("c")
        json.string("x")
        json.endObject()
        #expect(json.output == #"{"a":1,"b":[{},-2,null,[],true],"c":"x"}"#)
    }

    @Test func shortEscapes() {
        #expect(quoted("\"\\\n\r\t\u{8}\u{C}/") == #""\"\\\n\r\t\b\f/""#)
    }

    @Test func otherControlCharactersUseUnicodeEscapes() {
        #expect(quoted("\u{0}\u{1}\u{1B}\u{1F}") == #""\u0000\u0001\u001b\u001f""#)
        #expect(quoted("\u{7F}\u{85}\u{9F}") == #""\u007f\u0085\u009f""#)
        #expect(quoted("\u{2028}\u{2029}") == #""\u2028\u2029""#)
    }

    @Test func nonASCIIPassesAsUTF8() {
        #expect(quoted("é 日本 🚀 \u{A0}\u{202E}") == "\"é 日本 🚀 \u{A0}\u{202E}\"")
    }

    @Test func everyControlCharacterRoundTripsThroughJSONSerialization() throws {
        var scalars = String.UnicodeScalarView()
        for value in UInt32(0)...0x9F where value < 0x20 || value >= 0x7F {
            scalars.append(Unicode.Scalar(value)!)
        }
        let original = String(scalars)
        #expect(original.unicodeScalars.count == 65)
        let text = quoted(original)
        #expect(text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) })
        let parsed = try JSONSerialization.jsonObject(with: Data("[\(text)]".utf8)) as? [Any]
        #expect(parsed?.first as? String == original)
    }

    @Test func numbers() {
        var json = JSONWriter()
        json.beginArray()
        json.number(100)
        json.number(100.5)
        json.number(351.123)
        json.number(0)
        json.number(-0.0)
        json.number(351.1236)
        json.number(.nan)
        json.number(.infinity)
        json.number(-.infinity)
        json.fixedNumber(1_764_196_201.5)
        json.fixedNumber(.nan)
        json.integer(UInt64.max)
        json.integer(Int32.min)
        json.integer(nil as Int?)
        json.endArray()
        #expect(json.output
            == "[100,100.5,351.123,0,0,351.124,null,null,null,1764196201.500,null,18446744073709551615,-2147483648,null]")
    }
}

@Suite("DecimalText")
struct DecimalTextTests {
    @Test func trimmedDropsTrailingZeros() {
        #expect(DecimalText.trimmed(100) == "100")
        #expect(DecimalText.trimmed(100.5) == "100.5")
        #expect(DecimalText.trimmed(351.123) == "351.123")
        #expect(DecimalText.trimmed(0) == "0")
        #expect(DecimalText.trimmed(0.25) == "0.25")
        #expect(DecimalText.trimmed(0.0004) == "0")
        #expect(DecimalText.trimmed(-1.25) == "-1.25")
        #expect(DecimalText.trimmed(-0.0001) == "0")
        #expect(DecimalText.trimmed(2.0049, maxFractionDigits: 2) == "2")
    }

    @Test func neverUsesAnExponent() {
        #expect(DecimalText.trimmed(1e20) == "100000000000000000000")
        #expect(DecimalText.trimmed(-1.5e17) == "-150000000000000000")
        #expect(DecimalText.trimmed(9.2e21) == "9200000000000000000000")
        #expect(DecimalText.trimmed(1e-7) == "0")
        #expect(DecimalText.fixed(1e20) == "100000000000000000000.000")
        #expect(DecimalText.trimmed(123_456_789_012.5) == "123456789012.5")
    }

    @Test func fixedKeepsAllDecimals() {
        #expect(DecimalText.fixed(5) == "5.000")
        #expect(DecimalText.fixed(1_764_196_201.123) == "1764196201.123")
        #expect(DecimalText.fixed(0.0126, fractionDigits: 2) == "0.01")
        #expect(DecimalText.fixed(-2.5) == "-2.500")
    }

    @Test func nonFiniteHasNoText() {
        #expect(DecimalText.trimmed(.nan) == nil)
        #expect(DecimalText.trimmed(.infinity) == nil)
        #expect(DecimalText.fixed(-.infinity) == nil)
    }
}
