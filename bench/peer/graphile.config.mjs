// PostGraphile 5 as a read-only peer over Rastro's own PostgreSQL database:
// the default Amber preset, mutations off, no GraphiQL, no explain. It checks
// no token and no role (Rastro does both, and pays for them in the comparison);
// the page selects the company with a `condition`, not row-level security.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgMutationCreatePlugin", "PgMutationUpdateDeletePlugin", "PgMutationPayloadEdgePlugin"],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT),
    graphiql: false,
    watch: false,
    websockets: false,
  },
  grafast: { explain: false },
};
