/** The mitmts web UI: flow table, detail pane, options, log. */
import { options, render } from 'preact';
import { connect } from './conn.js';
import { Detail } from './Detail.js';
import { FilterBar } from './FilterBar.js';
import { FlowTable } from './FlowTable.js';
import { LogPane } from './LogPane.js';
import { OptionsPane } from './OptionsPane.js';
import * as s from './state.js';
import './style.css';

function App() {
  return (
    <div class="app">
      <header>
        <b class="brand">mitmts</b>
        <nav>
          <button class={s.pane.value === 'flows' ? 'active' : ''} onClick={() => (s.pane.value = 'flows')}>
            Flows
          </button>
          <button class={s.pane.value === 'options' ? 'active' : ''} onClick={() => (s.pane.value = 'options')}>
            Options
          </button>
        </nav>
        {s.notice.value ? (
          <span class="notice" role="status" onClick={() => (s.notice.value = null)}>
            {s.notice.value}
          </span>
        ) : null}
      </header>
      {s.pane.value === 'options' ? (
        <OptionsPane />
      ) : (
        <>
          <FilterBar />
          <main>
            <FlowTable />
            <Detail />
          </main>
        </>
      )}
      <LogPane />
    </div>
  );
}

// Render at most once per frame, just before it is painted: deltas that arrive within one frame
// (a busy proxy sends one every 30 ms, a slow page may find several queued) cost one render and
// one layout, not one each.
options.debounceRendering = (cb) => requestAnimationFrame(cb);

connect();
render(<App />, document.getElementById('app')!);
