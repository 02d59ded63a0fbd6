import ArgumentParser
import CompactRec
import CompactRecData
import CompactRecInference

/// The `compactrec` command line: prepare data, train compact-embedding CTR models, serve them.
@main
struct CompactRecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compactrec",
        abstract: "Train click-through-rate models with compact embeddings (MLET, AutoDim), and serve them.",
        subcommands: [
            DemoCommand.self, GenerateCommand.self, PrepareCommand.self, InspectCommand.self, TrainCommand.self, EvaluateCommand.self,
            SearchCommand.self, AutoDimCommand.self, CompareCommand.self, ExportCommand.self, PredictCommand.self, ServeCommand.self,
            SweepCommand.self, BenchCommand.self,
        ]
    )
}
