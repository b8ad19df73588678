/** The mitmts web UI: flow table, detail pane, options, log. */
import { render } from 'preact';
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

connect();
render(<App />, document.getElementById('app')!);
