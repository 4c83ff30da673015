// The web console's entry: served at `/` by the control plane (see web/README.md).
import { render } from 'preact';
import { App } from './App.tsx';
import './styles.css';

render(<App />, document.getElementById('app')!);
