import Testing
import YAML
@testable import Kube

/// The informer's cache and backoff on their own, one transition at a time.
@Suite struct ObjectCacheTests {
    static func object(_ name: String, version: String, app: String = "db") -> Node {
        .mapping(["metadata": .mapping(["name": .string(name), "namespace": "ns", "resourceVersion": .string(version), "labels": .mapping(["app": .string(app)])])])
    }

    @Test func givenACache_WhenReplacedWithAFreshList_ThenOnlyTheDifferencesAreReported() {
        var cache = ObjectCache(indexers: [Informer.labelIndex: Informer.labelPairs])
        for object in [Self.object("kept", version: "1"), Self.object("changed", version: "1"), Self.object("gone", version: "1")] {
            _ = cache.upsert(object)
        }

        let events = cache.replace(with: [Self.object("kept", version: "1"), Self.object("changed", version: "5", app: "web"), Self.object("new", version: "6")])

        #expect(events == [
            .deleted(Self.object("gone", version: "1")),
            .updated(old: Self.object("changed", version: "1"), new: Self.object("changed", version: "5", app: "web")),
            .added(Self.object("new", version: "6")),
        ])
        #expect(cache.all.map { ObjectKey($0.object).description } == ["ns/changed", "ns/kept", "ns/new"])
        #expect(cache.byIndex(Informer.labelIndex, "app=db").map { ObjectKey($0.object).name } == ["kept", "new"])
        #expect(cache.byIndex(Informer.labelIndex, "app=web").map { ObjectKey($0.object).name } == ["changed"])
    }

    @Test(arguments: [
        #"{"metadata":{"name":"a","namespace":"ns","resourceVersion":"7"},"spec":{"n":3,"x":-1.5e-3,"on":true,"off":false,"none":null,"list":[1,"two",[3],{}],"text":"ünïcode \"quoted\" \n\t\u0001 😀"}}"#,
        #"{"metadata":{"name":"b"},"data":{"big":9223372036854775807,"small":-9223372036854775808,"exp":1e300,"empty":""}}"#,
    ])
    func givenAnObjectFromTheServer_WhenStored_ThenItReadsBackEqualWithItsResourceVersion(json: String) throws {
        let object = try JSON.parse(json)
        let stored = StoredObject(object)
        #expect(stored.object == object)
        #expect(stored.resourceVersion == ObjectCache.resourceVersion(object))
    }

    @Test func givenAValueJSONCannotHold_WhenStored_ThenItIsKeptAsItIs() {
        let object: Node = .mapping(["metadata": .mapping(["name": "nan"]), "value": Node(.double(.infinity))])
        #expect(StoredObject(object).object == object)
    }

    @Test func givenAnUnknownObject_WhenRemoved_ThenNothingIsReported() {
        var cache = ObjectCache(indexers: [:])
        #expect(cache.remove(Self.object("never", version: "1")) == nil)
    }

    @Test(arguments: ["ns/name", "name"])
    func givenAKeyText_WhenParsed_ThenItPrintsTheSame(text: String) throws {
        #expect(try #require(ObjectKey(parsing: text)).description == text)
    }

    @Test(arguments: ["", "a/b/c", "ns/"])
    func givenAMalformedKey_WhenParsed_ThenItIsRejected(text: String) {
        #expect(ObjectKey(parsing: text) == nil)
    }

    @Test func givenABackoff_WhenItFailsRepeatedly_ThenWaitsDoubleWithinTheJitterUpToTheCap() {
        var backoff = Backoff(initial: .milliseconds(100), cap: .milliseconds(800), jitter: 0.5)
        let steps: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(800)]
        for step in steps {
            let wait = backoff.next()
            #expect(wait >= step && wait < step * 1.5, "\(wait) for a step of \(step)")
        }
        backoff.reset()
        #expect(backoff.next() < .milliseconds(150))
    }
}
