import SNNCJSON
import Testing

@Suite struct JSONDocumentTests {
    @Test func readsEveryKindInPlace() throws {
        let doc = try JSONDocument.parse(#"{"i": 42, "d": 0.5, "s": "héllo", "b": true, "n": null, "a": [1, 2.5, "x"], "o": {"k": 1}}"#)
        let r = doc.root
        #expect(r.kind == .object)
        #expect(r["i"]?.int == 42)
        #expect(r["i"]?.double == 42)
        #expect(r["d"]?.int == nil)  // 0.5 is no integer
        #expect(r["d"]?.double == 0.5)
        #expect(r["s"]?.string == "héllo")
        #expect(r["b"]?.bool == true)
        #expect(r["n"]?.isNull == true)  // present but null…
        #expect(r["missing"] == nil)  // …is not absent
        #expect(r["a"]?.count == 3)
        #expect(r["a"]?.element(2)?.string == "x")
        #expect(r["a"]?.element(3) == nil)
        #expect(r["o"]?["k"]?.int == 1)
        #expect(r.members.map(\.key) == ["i", "d", "s", "b", "n", "a", "o"])  // document order
    }

    @Test func aValueKeepsItsDocumentAlive() throws {
        // The document goes out of scope here; the value must still read correctly (no use-after-free).
        let v: JSONValue = try { try JSONDocument.parse(#"{"w": [1.5, 2.5, 3.5]}"#).root["w"]! }()
        var out: [Double] = []
        #expect(v.appendNumbers(to: &out) == nil)
        #expect(out == [1.5, 2.5, 3.5])
    }

    @Test func appendNumbersStopsAtTheFirstNonNumber() throws {
        let doc = try JSONDocument.parse("[1, 2, \"three\", 4]")
        var out: [Double] = []
        #expect(doc.root.appendNumbers(to: &out) == 2)
    }

    @Test func integersBeyondInt64AreRefused() throws {
        let doc = try JSONDocument.parse("[9223372036854775807, 100000000000000000000000]")
        #expect(doc.root.element(0)?.int == Int.max)
        #expect(doc.root.element(1)?.int == nil)
    }

    @Test(arguments: [
        ("", "empty"), ("   \n", "empty"), ("{\"a\": [1, 2", "truncated"),
        ("{} x", "trailing"), ("{\"a\": 1,}", "syntax"), (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "deep"),
    ])
    func malformedTextIsRefused(text: String, kind: String) {
        do {
            _ = try JSONDocument.parse(text)
            Issue.record("parsed: \(text)")
        } catch {
            switch (error.kind, kind) {
            case (.empty, "empty"), (.truncated, "truncated"), (.trailingContent, "trailing"), (.syntax, "trailing"), (.syntax, "syntax"), (.tooDeep, "deep"):
                break
            default:
                Issue.record("\(text): got \(error.kind), expected \(kind)")
            }
        }
    }
}

@Suite struct JSONOutputTests {
    @Test func writesMembersInOrderAndShortestDoubles() throws {
        let v = JSONOutput.object([("z", .int(1)), ("a", .double(0.1)), ("m", .array([.double(2.0), .double(1e-5), .string("a/b"), .null, .bool(false)]))])
        let text = v.serialized(pretty: false)
        #expect(text == #"{"z":1,"a":0.1,"m":[2,1e-05,"a/b",null,false]}"# + "\n")
    }

    @Test func roundTripsThroughTheParser() throws {
        let values: [Double] = [0.1, 1.0 / 3.0, -2.5e-300, 6.02214076e23, 0]
        let text = JSONOutput.array(values.map { .double($0) }).serialized()
        let doc = try JSONDocument.parse(text)
        #expect(doc.root.elements.map { $0.double! } == values)
    }

    @Test func nonFiniteBecomesNull() {
        #expect(JSONOutput.array([.double(.nan), .double(.infinity)]).serialized(pretty: false) == "[null,null]\n")
    }

    @Test func fixedRounds() {
        #expect(JSONOutput.fixed(0.123456, 3) == .double(0.123))
    }
}
