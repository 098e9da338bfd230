import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { bindSettings } from './store'
import '../shared/styles.css'

createApp(App).use(createPinia()).mount('#app')
bindSettings()
