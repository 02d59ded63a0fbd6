import ArgumentParser
import CompactRec

/// `compactrec demo` (being written).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "(being written)")
    func run() async throws {}
}
